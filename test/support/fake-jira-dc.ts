import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalStandIn } from './http-server';

/** Untrusted JSON, walked field by field; every value is checked before it is used. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** What the stand-in does with one request: answer, or act and then lose the connection. */
export type JiraDcFault = 'none' | '429' | 'drop-after';

export interface FakeJiraDcIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  createdAtMs: number;
  status: 'Open' | 'In Progress' | 'Closed';
  comments: Array<{ id: string; body: string }>;
}

const CATEGORY = {
  Open: { key: 'new', name: 'To Do' },
  'In Progress': { key: 'indeterminate', name: 'In Progress' },
  Closed: { key: 'done', name: 'Done' },
} as const;
// A classic Jira Server workflow: "Close Issue" and "Reopen Issue".
const TRANSITIONS = [
  { id: '4', name: 'Start Progress', to: 'In Progress' },
  { id: '2', name: 'Close Issue', to: 'Closed' },
  { id: '3', name: 'Reopen Issue', to: 'Open' },
] as const;
const PRIORITIES = new Set(['Highest', 'High', 'Medium', 'Low', 'Lowest']);
const FIELDS = new Set([
  'project',
  'issuetype',
  'summary',
  'description',
  'priority',
  'duedate',
  'labels',
  'assignee',
  'components',
]);

/**
 * A Jira Data Center / Server stand-in on 127.0.0.1: the REST API v2 endpoints closeloop uses, with
 * state (issues, comments, a workflow), a search index that lags, personal-access-token auth and
 * fault injection. Atlassian publishes the Data Center REST reference as documentation, not as a
 * machine-readable spec, so the request shapes it documents are checked here by hand:
 * `IssueUpdateBean` fields (a description is a string, not an ADF object; an assignee is
 * `{name}`, not `{accountId}`), `SearchRequestBean` (`jql`, `startAt`, `maxResults`, `fields`),
 * `CommentJsonBean` (`body` a string), `TransitionBean` (`{transition: {id}}`), user search by
 * `username`. What breaks them lands in `violations` (tests expect none) and gets Jira's 400.
 */
export class FakeJiraDc extends LocalStandIn {
  readonly issues = new Map<string, FakeJiraDcIssue>();
  readonly violations: string[] = [];
  readonly requests: Array<{ method: string; route: string; body: unknown }> = [];
  private seq = 0;
  private commentSeq = 0;

  constructor(
    private readonly options: {
      token?: string;
      users?: Array<{ name: string; emailAddress: string; active?: boolean }>;
      indexLagMs?: number;
      fault?: (request: { method: string; route: string; n: number }) => JiraDcFault;
    } = {},
  ) {
    super();
  }

  get url(): string {
    return this.base;
  }

  withLabel(label: string): FakeJiraDcIssue[] {
    return [...this.issues.values()].filter((i) => ((i.fields.labels as string[]) ?? []).includes(label));
  }

  /** Moves an issue as a person would in Jira. */
  setStatus(key: string, status: FakeJiraDcIssue['status']): void {
    this.issues.get(key)!.status = status;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    if (req.headers.authorization !== `Bearer ${this.options.token ?? 'dc-pat'}`) {
      this.send(res, 401, {
        errorMessages: ['You are not authenticated. Authentication required to perform this operation.'],
      });
      return;
    }
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.violations.push(`${method} ${url.pathname}: body is not JSON`);
      this.send(res, 400, { errorMessages: ['Unexpected character'] });
      return;
    }
    const route = routeOf(url.pathname);
    this.requests.push({ method, route, body });
    const n = this.requests.filter((r) => r.route === route).length;
    const fault = this.options.fault?.({ method, route, n }) ?? 'none';
    if (fault === '429') {
      this.send(res, 429, { errorMessages: ['Rate limit exceeded.'] }, { 'retry-after': '0' });
      return;
    }
    const [status, answer] = this.act(method, route, url, body);
    if (fault === 'drop-after') {
      req.socket.destroy();
      return;
    }
    this.send(res, status, answer);
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  private act(method: string, route: string, url: URL, body: Json): [number, unknown] {
    const key = decodeURIComponent(url.pathname.split('/')[5] ?? '');
    const issue = this.issues.get(key);
    switch (`${method} ${route}`) {
      case 'POST /rest/api/2/issue/bulk':
        return this.bulkCreate(body);
      case 'POST /rest/api/2/search':
        return this.search(body);
      case 'GET /rest/api/2/user/search': {
        if (url.searchParams.has('query'))
          this.violations.push('user search: Data Center takes "username", not "query"');
        const q = (url.searchParams.get('username') ?? '').toLowerCase();
        const users = (this.options.users ?? []).filter(
          (u) => u.name.toLowerCase().includes(q) || u.emailAddress.toLowerCase().includes(q),
        );
        return [200, users.map((u) => ({ ...u, key: u.name, displayName: u.name, active: u.active ?? true }))];
      }
    }
    if (!issue) return [404, { errorMessages: ['Issue Does Not Exist'] }];
    switch (`${method} ${route}`) {
      case 'POST /rest/api/2/issue/{issueIdOrKey}/comment': {
        if (typeof body?.body !== 'string' || body.body === '') {
          this.violations.push(`comment on ${key}: "body" must be a string (wiki markup), got ${typeof body?.body}`);
          return [400, { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } }];
        }
        const comment = { id: String(10_000 + ++this.commentSeq), body: body.body as string };
        issue.comments.push(comment);
        return [201, comment];
      }
      case 'GET /rest/api/2/issue/{issueIdOrKey}/comment': {
        const startAt = Number(url.searchParams.get('startAt') ?? 0);
        const max = Number(url.searchParams.get('maxResults') ?? 50);
        const ordered = url.searchParams.get('orderBy') === '-created' ? [...issue.comments].reverse() : issue.comments;
        return [
          200,
          { startAt, maxResults: max, total: issue.comments.length, comments: ordered.slice(startAt, startAt + max) },
        ];
      }
      case 'GET /rest/api/2/issue/{issueIdOrKey}':
        return [
          200,
          {
            id: issue.id,
            key,
            fields: {
              status: { name: issue.status, statusCategory: CATEGORY[issue.status] },
              priority: issue.fields.priority,
            },
          },
        ];
      case 'PUT /rest/api/2/issue/{issueIdOrKey}': {
        const priority = body?.fields?.priority?.name;
        if (!PRIORITIES.has(priority)) {
          this.violations.push(`edit ${key}: unknown priority ${priority}`);
          return [400, { errorMessages: [], errors: { priority: 'invalid priority' } }];
        }
        issue.fields.priority = { name: priority };
        return [204, undefined];
      }
      case 'GET /rest/api/2/issue/{issueIdOrKey}/transitions':
        return [
          200,
          {
            transitions: TRANSITIONS.filter((t) => t.to !== issue.status).map((t) => ({
              id: t.id,
              name: t.name,
              to: { name: t.to, statusCategory: CATEGORY[t.to] },
            })),
          },
        ];
      case 'POST /rest/api/2/issue/{issueIdOrKey}/transitions': {
        const id = body?.transition?.id;
        const transition = TRANSITIONS.find((t) => t.id === id && t.to !== issue.status);
        if (!transition) {
          this.violations.push(
            `transition ${key}: {"transition": {"id"}} must name an available transition, got ${JSON.stringify(body)}`,
          );
          return [
            400,
            { errorMessages: ['It seems that you have tried to perform a workflow operation that is not valid.'] },
          ];
        }
        issue.status = transition.to;
        return [204, undefined];
      }
    }
    this.violations.push(`${method} ${url.pathname}: not a Jira Data Center REST v2 endpoint closeloop should call`);
    return [404, { errorMessages: ['Not found'] }];
  }

  private fieldProblems(fields: Json): string[] {
    const problems: string[] = [];
    if (typeof fields !== 'object' || fields === null) return ['fields must be an object'];
    for (const name of Object.keys(fields))
      if (!FIELDS.has(name) && !/^customfield_\d+$/.test(name))
        problems.push(`fields.${name} is not a field of the issue`);
    if (typeof fields.project?.key !== 'string') problems.push('fields.project must be {"key"}');
    if (typeof fields.issuetype?.name !== 'string') problems.push('fields.issuetype must be {"name"}');
    if (typeof fields.summary !== 'string' || !/^[^\n]{1,255}$/.test(fields.summary))
      problems.push('fields.summary must be one line of 1-255 characters');
    if (fields.description !== undefined && typeof fields.description !== 'string')
      problems.push('fields.description must be a string (wiki markup); REST v2 takes no ADF');
    if (typeof fields.description === 'string' && fields.description.length > 32_767)
      problems.push('fields.description is longer than 32,767 characters');
    if (fields.priority !== undefined && !PRIORITIES.has(fields.priority?.name))
      problems.push('fields.priority must be {"name"} of a priority');
    if (fields.duedate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(fields.duedate))
      problems.push('fields.duedate must be YYYY-MM-DD');
    if (
      fields.labels !== undefined &&
      (!Array.isArray(fields.labels) || fields.labels.some((l: unknown) => typeof l !== 'string' || /\s/.test(l)))
    )
      problems.push('fields.labels must be strings without spaces');
    if (fields.assignee !== undefined && (typeof fields.assignee?.name !== 'string' || 'accountId' in fields.assignee))
      problems.push('fields.assignee must be {"name"} (Data Center has no account ids)');
    return problems;
  }

  private bulkCreate(body: Json): [number, unknown] {
    if (!Array.isArray(body?.issueUpdates)) {
      this.violations.push('bulk create: body must be {"issueUpdates": [...]}');
      return [400, { errorMessages: ['issueUpdates is required'] }];
    }
    const issues: unknown[] = [];
    const errors: unknown[] = [];
    body.issueUpdates.forEach((update: Json, index: number) => {
      const problems = this.fieldProblems(update?.fields);
      if (problems.length > 0) {
        this.violations.push(...problems.map((p) => `issueUpdates[${index}]: ${p}`));
        errors.push({
          status: 400,
          failedElementNumber: index,
          elementErrors: { errorMessages: problems, errors: {} },
        });
        return;
      }
      const n = ++this.seq;
      const key = `${update.fields.project.key}-${n}`;
      this.issues.set(key, {
        id: String(20_000 + n),
        key,
        fields: update.fields,
        createdAtMs: Date.now(),
        status: 'Open',
        comments: [],
      });
      issues.push({ id: String(20_000 + n), key, self: `${this.base}/rest/api/2/issue/${20_000 + n}` });
    });
    return [issues.length > 0 ? 201 : 400, { issues, errors }];
  }

  private search(body: Json): [number, unknown] {
    for (const name of Object.keys(body ?? {}))
      if (!['jql', 'startAt', 'maxResults', 'fields', 'expand', 'validateQuery'].includes(name))
        this.violations.push(
          `search: "${name}" is not a SearchRequestBean field (Cloud's nextPageToken is not Data Center's)`,
        );
    const m = /^project = "([A-Z][A-Z0-9_]*)" AND labels in \(((?:"[^"]+"(?:, )?)+)\) ORDER BY created ASC$/.exec(
      body?.jql ?? '',
    );
    if (!m) {
      this.violations.push(`search: unexpected JQL ${body?.jql}`);
      return [400, { errorMessages: ['Error in the JQL Query'] }];
    }
    const labels = new Set([...m[2]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!));
    const visible = [...this.issues.values()].filter(
      (i) =>
        i.key.startsWith(`${m[1]}-`) &&
        Date.now() - i.createdAtMs >= (this.options.indexLagMs ?? 0) &&
        ((i.fields.labels as string[]) ?? []).some((l) => labels.has(l)),
    );
    const startAt = Number(body.startAt ?? 0);
    const max = Math.min(Number(body.maxResults ?? 50), 50); // Data Center caps a page at 50 by default
    return [
      200,
      {
        startAt,
        maxResults: max,
        total: visible.length,
        issues: visible
          .slice(startAt, startAt + max)
          .map((i) => ({ id: i.id, key: i.key, fields: { labels: i.fields.labels } })),
      },
    ];
  }
}

function routeOf(path: string): string {
  return path.replace(/^\/rest\/api\/2\/issue\/(?!bulk$)[^/]+/, '/rest/api/2/issue/{issueIdOrKey}');
}
