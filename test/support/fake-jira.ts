import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalStandIn } from './http-server';
import { JiraContract } from './jira-contract';

/** What the fake does with one request: answer, fail, or lose the connection before/after acting. */
export type JiraFault = 'none' | '429' | '503' | 'drop-before' | 'drop-after';

export interface FakeJiraIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  createdAtMs: number;
  /** A status of the workflow (FakeJiraOptions.workflow). */
  status: string;
  comments: Array<{ id: string; body: unknown; properties: Array<{ key: string; value: unknown }> }>;
}

export interface FakeJiraOptions {
  email?: string;
  apiToken?: string;
  /** Jira users (for user search). */
  users?: Array<{ accountId: string; emailAddress?: string; active?: boolean }>;
  /** How long a new issue is invisible to search (Jira's index is eventually consistent). */
  indexLagMs?: number;
  /** Chooses a fault for each request (chaos tests). */
  fault?: (request: { method: string; route: string; n: number }) => JiraFault;
  /** What requests are checked against. @default JiraContract.ownChecks() (the contract suite adds Atlassian's spec) */
  contract?: JiraContract;
  /** Statuses beyond To Do / In Progress / Done, each with a transition of the same name into it (e.g. decisions). */
  extraStatuses?: Array<{ name: string; category: 'new' | 'indeterminate' | 'done' }>;
}

const CATEGORY_NAMES = { new: 'To Do', indeterminate: 'In Progress', done: 'Done' } as const;
const PRIORITIES = ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
/** The default workflow: every transition is global (available from any status), as in a simple Jira project. */
const STATUSES: Array<{ name: string; category: 'new' | 'indeterminate' | 'done' }> = [
  { name: 'To Do', category: 'new' },
  { name: 'In Progress', category: 'indeterminate' },
  { name: 'Done', category: 'done' },
];
const TRANSITION_NAMES: Record<string, string> = { 'To Do': 'To Do', 'In Progress': 'Start Progress', Done: 'Done' };

const ROUTES: Array<{ method: string; pattern: RegExp; route: string }> = [
  { method: 'POST', pattern: /^\/rest\/api\/3\/issue$/, route: '/rest/api/3/issue' },
  { method: 'POST', pattern: /^\/rest\/api\/3\/issue\/bulk$/, route: '/rest/api/3/issue/bulk' },
  { method: 'POST', pattern: /^\/rest\/api\/3\/search\/jql$/, route: '/rest/api/3/search/jql' },
  { method: 'GET', pattern: /^\/rest\/api\/3\/user\/search$/, route: '/rest/api/3/user/search' },
  {
    method: 'POST',
    pattern: /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/,
    route: '/rest/api/3/issue/{issueIdOrKey}/comment',
  },
  {
    method: 'GET',
    pattern: /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/,
    route: '/rest/api/3/issue/{issueIdOrKey}/comment',
  },
  {
    method: 'GET',
    pattern: /^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/,
    route: '/rest/api/3/issue/{issueIdOrKey}/transitions',
  },
  {
    method: 'POST',
    pattern: /^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/,
    route: '/rest/api/3/issue/{issueIdOrKey}/transitions',
  },
  { method: 'GET', pattern: /^\/rest\/api\/3\/issue\/([^/]+)$/, route: '/rest/api/3/issue/{issueIdOrKey}' },
  { method: 'PUT', pattern: /^\/rest\/api\/3\/issue\/([^/]+)$/, route: '/rest/api/3/issue/{issueIdOrKey}' },
];

/**
 * A Jira Cloud stand-in on 127.0.0.1: the REST v3 endpoints closeloop uses, with state (issues,
 * comments, workflow), an eventually consistent search, Basic auth, and fault injection. Every
 * ADF document is checked against Atlassian's ADF schema and every issue's fields against what
 * Jira accepts; with the contract suite's JiraContract, every request and answer against
 * Atlassian's OpenAPI spec too. Problems are collected in `violations` (tests expect none).
 */
export class FakeJira extends LocalStandIn {
  readonly issues = new Map<string, FakeJiraIssue>();
  readonly violations: string[] = [];
  readonly requests: Array<{ method: string; route: string; body: unknown }> = [];
  /** Raw request bodies, for "no secret in any payload" checks. */
  readonly rawBodies: string[] = [];
  private seq = 0;
  private readonly contract: JiraContract;

  private readonly statuses: Array<{ name: string; category: 'new' | 'indeterminate' | 'done' }>;

  constructor(private readonly options: FakeJiraOptions = {}) {
    super();
    this.contract = options.contract ?? JiraContract.ownChecks();
    this.statuses = [...STATUSES, ...(options.extraStatuses ?? [])];
  }

  private category(status: string) {
    const category = this.statuses.find((s) => s.name === status)?.category ?? 'new';
    return { key: category, name: CATEGORY_NAMES[category] };
  }

  private get transitions() {
    return this.statuses.map((s, i) => ({
      id: String(11 + 10 * i),
      name: TRANSITION_NAMES[s.name] ?? s.name,
      to: s.name,
    }));
  }

  /** Requests per route, e.g. `{'POST /rest/api/3/issue/bulk': 20}`. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) out[`${r.method} ${r.route}`] = (out[`${r.method} ${r.route}`] ?? 0) + 1;
    return out;
  }

  /** Issues carrying a label. */
  withLabel(label: string): FakeJiraIssue[] {
    return [...this.issues.values()].filter((i) => (i.fields.labels as string[] | undefined)?.includes(label));
  }

  get url(): string {
    return this.base;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const match = ROUTES.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    if (!match) return this.send(res, 404, { errorMessages: [`no route ${req.method} ${url.pathname}`] });
    const n = this.requests.length;
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.violations.push(`${req.method} ${match.route}: body is not JSON`);
      return this.send(res, 400, { errorMessages: ['body is not JSON'] });
    }
    this.requests.push({ method: req.method!, route: match.route, body });
    this.rawBodies.push(raw);
    const expected = `Basic ${Buffer.from(`${this.options.email ?? 'hub@example.com'}:${this.options.apiToken ?? 'jira-token'}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return this.send(res, 401, { errorMessages: ['unauthorized'] });
    this.violations.push(...this.contract.checkRequest(req.method!, match.route, url.searchParams, body));

    const fault = this.options.fault?.({ method: req.method!, route: match.route, n }) ?? 'none';
    if (fault === '429') return this.send(res, 429, { errorMessages: ['rate limited'] }, { 'retry-after': '0' });
    if (fault === '503') return this.send(res, 503, { errorMessages: ['unavailable'] });
    if (fault === 'drop-before') return void req.socket.destroy();

    const key = match.pattern.exec(url.pathname)?.[1];
    const [status, answer] = this.act(
      req.method!,
      match.route,
      key ? decodeURIComponent(key) : undefined,
      url.searchParams,
      body,
    );
    if (fault === 'drop-after') return void req.socket.destroy(); // it happened; the answer is lost
    this.violations.push(...this.contract.checkResponse(req.method!, match.route, status, answer));
    this.send(res, status, answer);
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res
      .writeHead(status, { 'content-type': 'application/json', ...headers })
      .end(body === undefined ? '' : JSON.stringify(body));
  }

  private act(
    method: string,
    route: string,
    key: string | undefined,
    query: URLSearchParams,
    body: unknown,
  ): [number, unknown] {
    switch (`${method} ${route}`) {
      case 'POST /rest/api/3/issue': {
        // One-by-one creation (the benchmark's baseline): the bulk path with one element.
        const [status, result] = this.bulkCreate({ issueUpdates: [body as { fields: Record<string, unknown> }] });
        const created = (result as { issues: Array<{ id: string; key: string; self: string }> }).issues[0];
        return status === 201 && created ? [201, created] : [400, { errorMessages: ['invalid issue'], errors: {} }];
      }
      case 'POST /rest/api/3/issue/bulk':
        return this.bulkCreate(body as { issueUpdates: Array<{ fields: Record<string, unknown> }> });
      case 'POST /rest/api/3/search/jql':
        return this.search(body as { jql: string; maxResults?: number; nextPageToken?: string });
      case 'GET /rest/api/3/user/search': {
        const q = (query.get('query') ?? '').toLowerCase();
        return [
          200,
          (this.options.users ?? [])
            .filter((u) => u.emailAddress?.toLowerCase() === q)
            .map((u) => ({
              accountId: u.accountId,
              emailAddress: u.emailAddress,
              active: u.active ?? true,
              accountType: 'atlassian',
            })),
        ];
      }
    }
    const issue = key ? this.issues.get(key) : undefined;
    if (!issue) return [404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'] }];
    switch (`${method} ${route}`) {
      case 'POST /rest/api/3/issue/{issueIdOrKey}/comment': {
        const b = body as { body: unknown; properties?: Array<{ key: string; value: unknown }> };
        this.violations.push(...this.contract.checkAdf(`comment on ${issue.key}`, b.body));
        const comment = { id: String(10000 + ++this.seq), body: b.body, properties: b.properties ?? [] };
        issue.comments.push(comment);
        return [201, { id: comment.id, body: comment.body }];
      }
      case 'GET /rest/api/3/issue/{issueIdOrKey}/comment': {
        const startAt = Number(query.get('startAt') ?? 0);
        const max = Number(query.get('maxResults') ?? 50);
        const expand = (query.get('expand') ?? '').includes('properties');
        const page = issue.comments
          .slice(startAt, startAt + max)
          .map((c) => ({ id: c.id, body: c.body, ...(expand ? { properties: c.properties } : {}) }));
        return [200, { comments: page, startAt, maxResults: max, total: issue.comments.length }];
      }
      case 'GET /rest/api/3/issue/{issueIdOrKey}':
        return [
          200,
          {
            id: issue.id,
            key: issue.key,
            fields: { ...issue.fields, status: { name: issue.status, statusCategory: this.category(issue.status) } },
          },
        ];
      case 'PUT /rest/api/3/issue/{issueIdOrKey}': {
        const fields = (body as { fields?: Record<string, unknown> }).fields ?? {};
        Object.assign(issue.fields, fields);
        return [204, undefined];
      }
      case 'GET /rest/api/3/issue/{issueIdOrKey}/transitions':
        return [
          200,
          {
            transitions: this.transitions.map((t) => ({
              id: t.id,
              name: t.name,
              to: { name: t.to, statusCategory: this.category(t.to) },
            })),
          },
        ];
      case 'POST /rest/api/3/issue/{issueIdOrKey}/transitions': {
        const t = this.transitions.find((x) => x.id === (body as { transition?: { id?: string } }).transition?.id);
        if (!t) return [400, { errorMessages: ['no such transition'] }];
        issue.status = t.to;
        return [204, undefined];
      }
    }
    return [404, { errorMessages: ['no route'] }];
  }

  private bulkCreate(body: { issueUpdates: Array<{ fields: Record<string, unknown> }> }): [number, unknown] {
    const updates = body.issueUpdates ?? [];
    if (updates.length > 50) return [400, { errorMessages: ['at most 50 issues per bulk create'] }];
    const issues: Array<{ id: string; key: string; self: string }> = [];
    const errors: Array<{
      failedElementNumber: number;
      status: number;
      elementErrors: { errorMessages: string[]; errors: Record<string, string> };
    }> = [];
    updates.forEach((u, index) => {
      const problems = this.contract.checkIssueFields(`issueUpdates[${index}]`, u.fields);
      this.violations.push(...problems);
      if (problems.length > 0) {
        errors.push({
          failedElementNumber: index,
          status: 400,
          elementErrors: { errorMessages: [], errors: { fields: problems.join('; ') } },
        });
        return;
      }
      // Like Jira: a priority the site does not define is a field error for that element only.
      const priority = (u.fields.priority as { name?: string } | undefined)?.name;
      if (priority !== undefined && !PRIORITIES.includes(priority)) {
        errors.push({
          failedElementNumber: index,
          status: 400,
          elementErrors: {
            errorMessages: [],
            errors: { priority: `Specify a valid priority (${priority} is not one)` },
          },
        });
        return;
      }
      const project = (u.fields.project as { key: string }).key;
      const id = String(10000 + ++this.seq);
      const key = `${project}-${this.issues.size + 1}`;
      this.issues.set(key, {
        id,
        key,
        fields: { ...u.fields },
        createdAtMs: Date.now(),
        status: 'To Do',
        comments: [],
      });
      issues.push({ id, key, self: `${this.url}/rest/api/3/issue/${id}` });
    });
    return [issues.length === 0 && errors.length > 0 ? 400 : 201, { issues, errors }];
  }

  private search(body: { jql: string; maxResults?: number; nextPageToken?: string }): [number, unknown] {
    const labels = [...(/labels in \(([^)]*)\)/i.exec(body.jql)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    const project = /project = "([^"]+)"/.exec(body.jql)?.[1];
    const visibleBefore = Date.now() - (this.options.indexLagMs ?? 0);
    const hits = [...this.issues.values()]
      .filter((i) => i.createdAtMs <= visibleBefore)
      .filter((i) => !project || (i.fields.project as { key: string }).key === project)
      .filter((i) => (i.fields.labels as string[]).some((l) => labels.includes(l)));
    const start = Number(body.nextPageToken ?? 0);
    const max = body.maxResults ?? 50;
    const page = hits.slice(start, start + max);
    const more = start + max < hits.length;
    return [
      200,
      {
        issues: page.map((i) => ({ id: i.id, key: i.key, fields: { labels: i.fields.labels } })),
        ...(more ? { nextPageToken: String(start + max) } : {}),
        isLast: !more,
      },
    ];
  }
}
