import axios, { type AxiosInstance } from 'axios';
import { CloseloopError } from '@core/shared/errors';
import { redactText } from '@core/shared/redaction';
import { ticketLabel, type ReturnTo, type SinkRef, type TicketDecision } from '@core/tickets/model';
import type { CreateResult, TicketDraft, TicketSink, TicketUpdate } from '@core/tickets/ports';
import {
  DEFAULT_RETRY_POLICY,
  HttpRequestFailedError,
  requestWithRetry,
  type RetryPolicy,
} from '../../http/retrying-http';
import { raisedPriority } from '@core/tickets/priority';
import { sectionsDoc, textDoc } from './adf';
import type { JiraConfig } from './config';

/** What the sink itself needs of its configuration; Jira Cloud adds the e-mail and token of Basic auth. */
export type JiraSinkConfig = Omit<JiraConfig, 'email' | 'apiToken'> & Partial<Pick<JiraConfig, 'email' | 'apiToken'>>;
/** An issue as a search page lists it (with the labels asked for). */
export type JiraListedIssue = { key: string; fields: { labels?: string[] } };
import {
  CommentPageSchema,
  CreatedIssuesSchema,
  ErrorCollectionSchema,
  IssueStatusSchema,
  SearchResultsSchema,
  TransitionsSchema,
  UsersSchema,
} from './schemas';

/** The comment property that carries the closeloop work id: how a retried comment is recognised. */
export const WORK_PROPERTY = 'closeloop.work';
/** Labels looked up per search request. */
const LABELS_PER_SEARCH = 50;

/** Jira answered something closeloop cannot use. */
export class JiraResponseError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JiraResponseError';
  }
}

/** What Jira said was wrong with a request (field errors), redacted and short. */
export function jiraErrorText(body: unknown): string {
  const parsed = ErrorCollectionSchema.safeParse(body);
  if (!parsed.success) return 'no details';
  const parts = [
    ...(parsed.data.errorMessages ?? []),
    ...Object.entries(parsed.data.errors ?? {}).map(([field, message]) => `${field}: ${message}`),
  ];
  return redactText(parts.join('; ') || 'no details').slice(0, 300);
}

/**
 * Jira Cloud REST v3. Creates through bulk create (≤ 50 per call, per-item errors), finds
 * tickets by label through `/rest/api/3/search/jql` (eventually consistent: `lookupLagMs`),
 * comments in ADF with a work-id property, raises priority, and transitions by name or
 * status category. Reads and idempotent writes retry; creates never retry blindly.
 */
export class JiraSink implements TicketSink {
  readonly kind: 'jira' | 'jira-dc' = 'jira';
  readonly lookupLagMs: number;
  readonly maxBatch: number;
  protected readonly http: AxiosInstance;
  /** The REST API this Jira speaks (Data Center: `/rest/api/2`, see connectors/sinks/jira-dc). */
  protected readonly api: string = '/rest/api/3';
  /** owner email → the assignee field's value (or null: no such Jira user), for the life of the process. */
  private readonly accounts = new Map<string, Promise<Record<string, string> | null>>();

  constructor(
    protected readonly config: JiraSinkConfig,
    protected readonly retry: RetryPolicy = DEFAULT_RETRY_POLICY,
    http?: AxiosInstance,
  ) {
    this.lookupLagMs = config.searchLagMs;
    this.maxBatch = config.bulkSize;
    this.http =
      http ??
      axios.create({
        baseURL: config.baseUrl,
        timeout: 30_000,
        auth: { username: config.email ?? '', password: config.apiToken ?? '' },
        headers: { accept: 'application/json', 'content-type': 'application/json' },
      });
  }

  /** The browse URL of an issue. */
  browseUrl(key: string): string {
    return `${this.config.baseUrl}/browse/${key}`;
  }

  async create(drafts: TicketDraft[], sink: SinkRef): Promise<CreateResult[]> {
    const project = 'project' in sink ? sink.project : this.config.projectKey;
    // A user search that fails leaves that issue unassigned (its description says so), never the batch.
    const assignees = await Promise.all(drafts.map((d) => this.accountIdFor(d.owner).catch(() => null)));
    const issueUpdates = drafts.map((d, i) => ({ fields: this.fields(d, project, assignees[i] ?? null) }));
    const response = await requestWithRetry<unknown>(
      this.http,
      // 400 carries per-item errors when every element failed; it is an answer, not a failure.
      {
        method: 'POST',
        url: `${this.api}/issue/bulk`,
        data: { issueUpdates },
        validateStatus: (s) => s === 201 || s === 400,
      },
      this.retry,
      { idempotent: false },
    );
    const body = CreatedIssuesSchema.safeParse(response.data);
    if (!body.success)
      throw new JiraResponseError(
        `Jira bulk create answered HTTP ${response.status} without a CreatedIssues body: ${jiraErrorText(response.data)}`,
      );
    const failed = new Map(body.data.errors.map((e) => [e.failedElementNumber, e]));
    // Jira lists created issues in request order, skipping the failed elements.
    const created = [...body.data.issues];
    const results: CreateResult[] = [];
    drafts.forEach((draft, index) => {
      const error = failed.get(index);
      if (error) {
        results.push({ findingId: draft.findingId, status: 'rejected', reason: jiraErrorText(error.elementErrors) });
        return;
      }
      const issue = created.shift();
      if (!issue)
        throw new JiraResponseError(
          `Jira bulk create returned fewer issues than it accepted (${body.data.issues.length} for ${drafts.length - failed.size})`,
        );
      results.push({ findingId: draft.findingId, status: 'created', key: issue.key, url: this.browseUrl(issue.key) });
    });
    return results;
  }

  /**
   * The issue's fields: everything known at creation, so no comment follows (an owner Jira does
   * not know is said in the description; an escalation before creation is the priority).
   */
  private fields(d: TicketDraft, project: string, assignee: Record<string, string> | null): Record<string, unknown> {
    const base = this.config.priorities.bySeverity[d.finding.severity];
    const decideHere = this.howToDecide(d.awaiting);
    const sections = d.sections.map((section) => {
      if (section.heading === 'Owner and due date' && !assignee && !d.unowned)
        return {
          ...section,
          lines: [
            ...section.lines,
            `Unassigned in Jira: the owner "${redactText(d.owner)}" could not be matched to a Jira user; assign it to them by hand.`,
          ],
        };
      if (section.heading === 'Decision awaited' && decideHere)
        return { ...section, lines: [...section.lines, decideHere] };
      return section;
    });
    return {
      project: { key: project },
      issuetype: { name: this.config.issueType },
      summary: d.summary,
      description: this.description({ ...d, sections }),
      priority: { name: d.escalated ? raisedPriority(this.config.priorities, base) : base },
      ...(d.dueDate ? { duedate: d.dueDate } : {}),
      labels: ['closeloop', d.label],
      ...(assignee ? { assignee } : {}),
      ...(this.config.components.length > 0 ? { components: this.config.components.map((name) => ({ name })) } : {}),
      ...this.config.customFields,
    };
  }

  /** The issue description: ADF on Jira Cloud. */
  protected description(d: TicketDraft): unknown {
    return sectionsDoc(d.sections);
  }

  /** A comment's body carrying the work id: ADF and a comment property on Jira Cloud. */
  protected commentPayload(text: string, workId: string): Record<string, unknown> {
    return { body: textDoc(`closeloop: ${text}`), properties: [{ key: WORK_PROPERTY, value: { id: workId } }] };
  }

  /** Whether a listed comment is the one a work item added (see `commentPayload`). */
  protected carriesWork(
    comment: { properties?: Array<{ key: string; value: unknown }>; body?: unknown },
    workId: string,
  ) {
    return Boolean(
      comment.properties?.some((p) => p.key === WORK_PROPERTY && (p.value as { id?: string } | null)?.id === workId),
    );
  }

  /** The user an owner's e-mail names, as the assignee field wants it (`{accountId}` on Jira Cloud). */
  protected async findUser(email: string): Promise<Record<string, string> | null> {
    const response = await requestWithRetry<unknown>(
      this.http,
      { method: 'GET', url: `${this.api}/user/search`, params: { query: email, maxResults: 10 } },
      this.retry,
    );
    const users = UsersSchema.safeParse(response.data);
    if (!users.success) throw new JiraResponseError('Jira user search answered without a list of users');
    const active = users.data.filter((u) => u.active !== false && u.accountType !== 'app');
    const exact = active.filter((u) => u.emailAddress?.toLowerCase() === email);
    // Email addresses may be hidden by privacy settings: one active match is the person.
    const accountId = exact[0]?.accountId ?? (active.length === 1 ? active[0]!.accountId : null);
    return accountId ? { accountId } : null;
  }

  /** The issues a JQL query finds, page by page (Jira Cloud: `search/jql` with page tokens). */
  protected async *searchIssues(jql: string): AsyncGenerator<JiraListedIssue[]> {
    let nextPageToken: string | undefined;
    do {
      const response = await requestWithRetry<unknown>(
        this.http,
        {
          method: 'POST',
          url: `${this.api}/search/jql`,
          data: { jql, fields: ['labels'], maxResults: 100, ...(nextPageToken ? { nextPageToken } : {}) },
        },
        this.retry,
      );
      const page = SearchResultsSchema.safeParse(response.data);
      if (!page.success) throw new JiraResponseError('Jira search answered without a list of issues');
      yield page.data.issues;
      nextPageToken = page.data.nextPageToken ?? undefined;
    } while (nextPageToken);
  }

  /** Owner email → the assignee through user search, cached (misses too). Non-emails: none. */
  private accountIdFor(owner: string): Promise<Record<string, string> | null> {
    if (!owner.includes('@')) return Promise.resolve(null);
    const email = owner.toLowerCase();
    let cached = this.accounts.get(email);
    if (!cached) {
      cached = this.findUser(email);
      cached.catch(() => this.accounts.delete(email));
      this.accounts.set(email, cached);
    }
    return cached;
  }

  async find(findingIds: string[], sink: SinkRef): Promise<Map<string, { key: string; url?: string }>> {
    const project = 'project' in sink ? sink.project : this.config.projectKey;
    const byLabel = new Map(findingIds.map((id) => [ticketLabel(id), id]));
    const labels = [...byLabel.keys()];
    const found = new Map<string, { key: string; url?: string }>();
    for (let i = 0; i < labels.length; i += LABELS_PER_SEARCH) {
      const chunk = labels.slice(i, i + LABELS_PER_SEARCH);
      const jql = `project = "${project}" AND labels in (${chunk.map((l) => `"${l}"`).join(', ')}) ORDER BY created ASC`;
      for await (const issues of this.searchIssues(jql)) {
        for (const issue of issues) {
          for (const label of issue.fields.labels ?? []) {
            const id = byLabel.get(label);
            // Oldest first: if two issues ever carry one label, the first one is the finding's.
            if (id && !found.has(id)) found.set(id, { key: issue.key, url: this.browseUrl(issue.key) });
          }
        }
      }
    }
    return found;
  }

  /**
   * One batch: the comment first (it says why), then the priority one step above the severity's
   * (a fixed target, so a repeated escalation or a retry sets the same value again), then the
   * transition the batch ends with.
   */
  async update(key: string, update: TicketUpdate): Promise<void> {
    const decideHere = update.awaiting ? this.howToDecide(update.awaiting) : undefined;
    await this.comment(key, decideHere ? `${update.text}\n${decideHere}` : update.text, update.workId, update.retry);
    if (update.escalate || update.op === 'escalate') {
      const target = raisedPriority(this.config.priorities, this.config.priorities.bySeverity[update.finding.severity]);
      await requestWithRetry(
        this.http,
        {
          method: 'PUT',
          url: `${this.api}/issue/${encodeURIComponent(key)}`,
          data: { fields: { priority: { name: target } } },
        },
        this.retry,
      );
    }
    if (update.op === 'close') await this.transition(key, 'done', this.config.closeTransition);
    if (update.op === 'reopen') await this.transition(key, 'open', this.config.reopenTransition);
    if (update.op === 'refuse') await this.putBack(key, update.returnTo ?? {});
  }

  /**
   * How to take the awaited decision in Jira: the configured names (transitions, or the statuses
   * they lead to, or the decision field's values) that apply to it.
   */
  private howToDecide(awaiting: TicketDraft['awaiting']): string | undefined {
    if (!this.config.showDecisions) return undefined;
    const applies: Record<TicketDraft['awaiting']['kind'], TicketDecision[]> = {
      approval: ['approve_remediation', 'reject_remediation', 'approve', 'reject'],
      exception: ['approve_exception', 'reject_exception', 'approve', 'reject'],
      false_positive: ['approve_false_positive', 'reject_false_positive', 'approve', 'reject'],
      owner_fix: ['claim_false_positive'],
      none: [],
    };
    const names = Object.entries(this.config.decisions)
      .filter(([, decision]) => applies[awaiting.kind].includes(decision))
      .map(([name]) => `"${name}"`);
    if (names.length === 0) return undefined;
    const choices = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`;
    const how = this.config.decisionField ? 'move the issue, or set the decision field, to' : 'move the issue to';
    return awaiting.role
      ? `Decide in Jira: ${how} ${choices}. closeloop checks that you hold the "${awaiting.role}" role and did not ask for it yourself; a refusal is commented here and the issue goes back.`
      : `In Jira: ${how} ${choices} if it is not a real exposure; an approver decides.`;
  }

  /** After a refused change: the status it waited in (or the decision field's value before), back. */
  private async putBack(key: string, returnTo: ReturnTo): Promise<void> {
    const path = `${this.api}/issue/${encodeURIComponent(key)}`;
    if (returnTo.field) {
      const { id, value } = returnTo.field;
      await requestWithRetry(
        this.http,
        { method: 'PUT', url: path, data: { fields: { [id]: value === null ? null : { value } } } },
        this.retry,
      );
    }
    if (!returnTo.status) return;
    const issue = IssueStatusSchema.safeParse(
      (
        await requestWithRetry<unknown>(
          this.http,
          { method: 'GET', url: path, params: { fields: 'status' } },
          this.retry,
        )
      ).data,
    );
    if (!issue.success) throw new JiraResponseError(`Jira answered ${key} without its status`);
    if (issue.data.fields.status?.name?.toLowerCase() === returnTo.status.toLowerCase()) return;
    const listed = TransitionsSchema.safeParse(
      (await requestWithRetry<unknown>(this.http, { method: 'GET', url: `${path}/transitions` }, this.retry)).data,
    );
    if (!listed.success) throw new JiraResponseError(`Jira answered ${key}'s transitions without a list`);
    const back = listed.data.transitions.find((t) => t.to?.name?.toLowerCase() === returnTo.status!.toLowerCase());
    // A workflow without a way back: at least out of the done category, where a refused Done would leave it.
    if (!back) return this.transition(key, 'open', this.config.reopenTransition);
    await requestWithRetry(
      this.http,
      { method: 'POST', url: `${path}/transitions`, data: { transition: { id: back.id } } },
      this.retry,
    );
  }

  /** Adds an ADF comment carrying the work id; on a retry, first checks it is not there already. */
  private async comment(key: string, text: string, workId: string, retry: boolean): Promise<void> {
    if (retry && (await this.hasComment(key, workId))) return;
    await requestWithRetry(
      this.http,
      {
        method: 'POST',
        url: `${this.api}/issue/${encodeURIComponent(key)}/comment`,
        data: this.commentPayload(text, workId),
      },
      this.retry,
      { idempotent: false },
    );
  }

  private async hasComment(key: string, workId: string): Promise<boolean> {
    for (let startAt = 0; ;) {
      const response = await requestWithRetry<unknown>(
        this.http,
        {
          method: 'GET',
          url: `${this.api}/issue/${encodeURIComponent(key)}/comment`,
          params: { startAt, maxResults: 100, orderBy: '-created', expand: 'properties' },
        },
        this.retry,
      );
      const page = CommentPageSchema.safeParse(response.data);
      if (!page.success) throw new JiraResponseError(`Jira answered ${key}'s comments without a page of comments`);
      if (page.data.comments.some((c) => this.carriesWork(c, workId))) return true;
      startAt += page.data.comments.length;
      if (page.data.comments.length === 0 || startAt >= page.data.total) return false;
    }
  }

  /** Moves the issue into the done category (`done`) or out of it (`open`), unless it is there already. */
  private async transition(key: string, target: 'done' | 'open', byName: string | undefined): Promise<void> {
    const path = `${this.api}/issue/${encodeURIComponent(key)}`;
    const issue = IssueStatusSchema.safeParse(
      (
        await requestWithRetry<unknown>(
          this.http,
          { method: 'GET', url: path, params: { fields: 'status' } },
          this.retry,
        )
      ).data,
    );
    if (!issue.success) throw new JiraResponseError(`Jira answered ${key} without its status`);
    const category = issue.data.fields.status?.statusCategory?.key;
    if ((target === 'done') === (category === 'done')) return;
    const listed = TransitionsSchema.safeParse(
      (await requestWithRetry<unknown>(this.http, { method: 'GET', url: `${path}/transitions` }, this.retry)).data,
    );
    if (!listed.success) throw new JiraResponseError(`Jira answered ${key}'s transitions without a list`);
    const transitions = listed.data.transitions;
    const chosen = byName
      ? transitions.find((t) => t.name.toLowerCase() === byName.toLowerCase())
      : target === 'done'
        ? transitions.find((t) => t.to?.statusCategory?.key === 'done')
        : (transitions.find((t) => t.to?.statusCategory?.key === 'new') ??
          transitions.find((t) => t.to?.statusCategory?.key === 'indeterminate'));
    if (!chosen) {
      const wanted = byName ? `"${byName}"` : target === 'done' ? 'into the done category' : 'out of the done category';
      throw new JiraResponseError(
        `${key} has no transition ${wanted} (available: ${transitions.map((t) => t.name).join(', ') || 'none'})`,
      );
    }
    try {
      await requestWithRetry(
        this.http,
        { method: 'POST', url: `${path}/transitions`, data: { transition: { id: chosen.id } } },
        this.retry,
      );
    } catch (err) {
      if (err instanceof HttpRequestFailedError && err.status === 400) {
        const body = (err.cause as { response?: { data?: unknown } } | undefined)?.response?.data;
        throw new JiraResponseError(`Jira refused transition "${chosen.name}" on ${key}: ${jiraErrorText(body)}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
}
