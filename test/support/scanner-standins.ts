import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalStandIn } from './http-server';
import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  SecurityHubClient,
  type BatchUpdateFindingsCommandInput,
  type BatchUpdateFindingsV2CommandInput,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';

/** What a stand-in does with one request: answer, fail, or lose the connection after acting. */
export type ScannerFault = 'none' | '429' | '500' | 'drop-after';

interface Recorded {
  method: string;
  path: string;
  body: unknown;
  raw: string;
}

/** A real HTTP server on 127.0.0.1 with routes, request records, an auth check and fault injection. */
abstract class StandIn extends LocalStandIn {
  readonly requests: Recorded[] = [];
  /** What a request broke of the API's rules (tests expect none). */
  readonly violations: string[] = [];
  get url(): string {
    return this.base;
  }
  /** Chooses a fault for each request. */
  fault: (request: { method: string; path: string; n: number }) => ScannerFault = () => 'none';

  protected abstract authorized(header: string | undefined): boolean;
  protected abstract act(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): [number, unknown, Record<string, string>?];

  /** Requests by `METHOD path`, e.g. `{'PATCH /repos/acme/api/secret-scanning/alerts/7': 1}`. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) out[`${r.method} ${r.path}`] = (out[`${r.method} ${r.path}`] ?? 0) + 1;
    return out;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.violations.push(`${req.method} ${url.pathname}: body is not JSON`);
      return send(res, 400, { message: 'Problems parsing JSON' });
    }
    const n = this.requests.length;
    this.requests.push({ method: req.method!, path: url.pathname, body, raw });
    if (!this.authorized(req.headers.authorization)) return send(res, 401, { message: 'Bad credentials' });
    const fault = this.fault({ method: req.method!, path: url.pathname, n });
    if (fault === '429') return send(res, 429, { message: 'slow down' }, { 'retry-after': '0' });
    if (fault === '500') return send(res, 500, { message: 'unavailable' });
    const [status, answer, headers] = this.act(req.method!, url.pathname, url.searchParams, body);
    if (fault === 'drop-after') return void req.socket.destroy(); // it happened; the answer is lost
    send(res, status, answer, headers);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(body === undefined ? '' : JSON.stringify(body));
}

export interface StandInAlert {
  number: number;
  state: 'open' | 'resolved';
  resolution: string | null;
  resolution_comment: string | null;
  secret_type: string;
  updated_at: string;
  [key: string]: unknown;
}

const RESOLUTIONS = ['false_positive', 'wont_fix', 'revoked', 'used_in_tests'];

/**
 * GitHub's secret scanning alerts on 127.0.0.1: `GET` and `PATCH /repos/{owner}/{repo}/secret-scanning/alerts/{n}`
 * with GitHub's rules for the update (state `open` or `resolved`; a resolution from GitHub's list
 * when resolving; no comment when reopening; 422 otherwise) and Bearer auth.
 */
export class GithubStandIn extends StandIn {
  /** Alerts by `owner/repo#number` (lower case). */
  readonly alerts = new Map<string, StandInAlert>();
  /** Organisations the token can see (lower case): those of the alerts added, and `addOrg`. */
  readonly orgs = new Set<string>();

  constructor(readonly token = 'ghp_standInToken000000000000000000000') {
    super();
  }

  addAlert(repository: string, alert: Partial<StandInAlert> & { number: number }): StandInAlert {
    const full: StandInAlert = {
      state: 'open',
      resolution: null,
      resolution_comment: null,
      secret_type: 'github_personal_access_token',
      updated_at: '2026-10-01T00:00:00Z',
      ...alert,
    };
    this.alerts.set(`${repository.toLowerCase()}#${alert.number}`, full);
    this.orgs.add(repository.split('/')[0]!.toLowerCase());
    return full;
  }

  /** An organisation with no alerts yet (a clean scan still answers 200 []). */
  addOrg(org: string): void {
    this.orgs.add(org.toLowerCase());
  }

  alert(repository: string, n: number): StandInAlert | undefined {
    return this.alerts.get(`${repository.toLowerCase()}#${n}`);
  }

  protected authorized(header: string | undefined) {
    return header === `Bearer ${this.token}`;
  }

  protected act(method: string, path: string, _query: URLSearchParams, body: unknown): [number, unknown] {
    // The organisation's list, newest update first (one page).
    const org = /^\/orgs\/([^/]+)\/secret-scanning\/alerts$/.exec(path);
    // GitHub answers 404 for an organisation it does not know (or the token cannot see).
    if (org && method === 'GET' && !this.orgs.has(decodeURIComponent(org[1]!).toLowerCase()))
      return [404, { message: 'Not Found' }];
    if (org && method === 'GET')
      return [
        200,
        [...this.alerts.entries()]
          .filter(([key]) => key.startsWith(`${decodeURIComponent(org[1]!).toLowerCase()}/`))
          .map(([, alert]) => alert)
          .sort((a, b) => b.updated_at.localeCompare(a.updated_at)),
      ];
    const m = /^\/repos\/([^/]+)\/([^/]+)\/secret-scanning\/alerts\/(\d+)$/.exec(path);
    const alert = m
      ? this.alerts.get(`${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}#${m[3]}`.toLowerCase())
      : undefined;
    if (!m) return [404, { message: 'Not Found' }];
    if (!alert) return [404, { message: 'Not Found' }];
    if (method === 'GET') return [200, alert];
    if (method !== 'PATCH') return [404, { message: 'Not Found' }];
    const b = (body ?? {}) as { state?: unknown; resolution?: unknown; resolution_comment?: unknown };
    const problems: string[] = [];
    if (b.state !== 'open' && b.state !== 'resolved') problems.push('state must be open or resolved');
    if (b.state === 'resolved' && !RESOLUTIONS.includes(String(b.resolution)))
      problems.push(`resolution must be one of ${RESOLUTIONS.join(', ')}`);
    if (b.state === 'open' && b.resolution_comment != null)
      problems.push('resolution_comment must be null when reopening');
    if (b.resolution_comment != null && typeof b.resolution_comment !== 'string')
      problems.push('resolution_comment must be a string');
    for (const key of Object.keys(b))
      if (!['state', 'resolution', 'resolution_comment', 'assignee'].includes(key))
        problems.push(`unknown field ${key}`);
    if (problems.length > 0) {
      this.violations.push(`PATCH ${path}: ${problems.join('; ')}`);
      return [422, { message: 'Validation Failed', errors: problems }];
    }
    alert.state = b.state as StandInAlert['state'];
    alert.resolution = b.state === 'resolved' ? String(b.resolution) : null;
    alert.resolution_comment = b.state === 'resolved' ? ((b.resolution_comment as string | undefined) ?? null) : null;
    alert.updated_at = new Date().toISOString();
    return [200, alert];
  }
}

export interface StandInIncident {
  id: number;
  status: 'TRIGGERED' | 'ASSIGNED' | 'RESOLVED' | 'IGNORED';
  secret_revoked: boolean;
  ignore_reason: string | null;
  notes: Array<{ id: number; comment: string; created_at: string }>;
}

const IGNORE_REASONS = ['test_credential', 'false_positive', 'low_risk', 'invalid'];

/**
 * GitGuardian's secret incidents on 127.0.0.1: `GET /v1/incidents/secrets/{id}`, `POST …/resolve`
 * (`secret_revoked` required; an incident already resolved is refused), `…/ignore` (an ignore
 * reason from GitGuardian's list), `…/reopen` (only a closed incident), and the incident's notes
 * (`GET` paged with Link headers, `POST` → 201), with `Token` auth.
 */
export class GitguardianStandIn extends StandIn {
  readonly incidents = new Map<number, StandInIncident>();
  /** Notes per page (small, so the writer's paging is exercised). */
  notesPerPage = 2;
  private noteSeq = 0;

  constructor(readonly token = 'gg-standin-token') {
    super();
  }

  addIncident(id: number, incident: Partial<StandInIncident> = {}): StandInIncident {
    const full: StandInIncident = {
      id,
      status: 'TRIGGERED',
      secret_revoked: false,
      ignore_reason: null,
      notes: [],
      ...incident,
    };
    this.incidents.set(id, full);
    return full;
  }

  protected authorized(header: string | undefined) {
    return header === `Token ${this.token}`;
  }

  protected act(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): [number, unknown, Record<string, string>?] {
    const m = /^\/v1\/incidents\/secrets\/(\d+)(?:\/(resolve|ignore|reopen|notes))?$/.exec(path);
    const incident = m ? this.incidents.get(Number(m[1])) : undefined;
    if (!m || !incident) return [404, { detail: 'Not found.' }];
    const b = (body ?? {}) as Record<string, unknown>;
    const view = () => {
      const { notes: _notes, ...rest } = incident;
      return rest;
    };
    const closed = incident.status === 'RESOLVED' || incident.status === 'IGNORED';
    switch (`${method} ${m[2] ?? ''}`) {
      case 'GET ':
        return [200, view()];
      case 'POST resolve':
        if (typeof b.secret_revoked !== 'boolean') {
          this.violations.push(`POST ${path}: secret_revoked is required (boolean)`);
          return [400, { secret_revoked: ['This field is required.'] }];
        }
        if (incident.status === 'RESOLVED') return [400, { detail: 'Incident is already resolved.' }];
        incident.status = 'RESOLVED';
        incident.secret_revoked = b.secret_revoked;
        return [200, view()];
      case 'POST ignore':
        if (!IGNORE_REASONS.includes(String(b.ignore_reason))) {
          this.violations.push(`POST ${path}: ignore_reason must be one of ${IGNORE_REASONS.join(', ')}`);
          return [400, { ignore_reason: ['Not a valid choice.'] }];
        }
        if (closed) return [400, { detail: 'Incident is already closed.' }];
        incident.status = 'IGNORED';
        incident.ignore_reason = String(b.ignore_reason);
        return [200, view()];
      case 'POST reopen':
        if (!closed) return [400, { detail: 'Incident is not closed.' }];
        incident.status = 'TRIGGERED';
        incident.ignore_reason = null;
        return [200, view()];
      case 'GET notes': {
        const cursor = Number(query.get('cursor') ?? '0');
        const page = incident.notes.slice(cursor, cursor + this.notesPerPage);
        const next = cursor + this.notesPerPage < incident.notes.length;
        return [
          200,
          page,
          next ? { link: `<${this.url}${path}?cursor=${cursor + this.notesPerPage}&per_page=100>; rel="next"` } : {},
        ];
      }
      case 'POST notes': {
        if (typeof b.comment !== 'string' || b.comment === '') {
          this.violations.push(`POST ${path}: comment is required`);
          return [400, { comment: ['This field is required.'] }];
        }
        const note = { id: ++this.noteSeq, comment: b.comment, created_at: new Date().toISOString() };
        incident.notes.push(note);
        return [201, note];
      }
    }
    return [405, { detail: `Method "${method}" not allowed.` }];
  }
}

export interface FakeHubFinding {
  workflow: string;
  note?: { Text: string; UpdatedBy: string };
}

const WORKFLOW = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];
const OCSF_STATUS_IDS = [0, 1, 2, 3, 4, 5, 99];

/**
 * A stateful Security Hub on aws-sdk-client-mock: findings (ASFF, by product ARN and id; OCSF, by
 * account, product and finding uid) whose workflow status and note BatchUpdateFindings and
 * BatchUpdateFindingsV2 set as Security Hub does, with its limits (100 findings, a 512-character
 * note, the workflow statuses and status ids it takes) and FindingNotFound for an unknown finding.
 * `throttleNext` makes the next calls fail as Security Hub's rate limit does.
 */
export class FakeSecurityHub {
  readonly findings = new Map<string, FakeHubFinding>();
  readonly findingsV2 = new Map<string, { statusId: number; comment?: string }>();
  readonly violations: string[] = [];
  readonly calls: Array<BatchUpdateFindingsCommandInput | BatchUpdateFindingsV2CommandInput> = [];
  throttleNext = 0;
  readonly stub = mockClient(SecurityHubClient);
  readonly client = new SecurityHubClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
  });

  constructor() {
    this.stub.on(BatchUpdateFindingsCommand).callsFake((input: BatchUpdateFindingsCommandInput) => {
      this.calls.push(input);
      this.throttle();
      const ids = input.FindingIdentifiers ?? [];
      if (ids.length === 0 || ids.length > 100)
        this.violations.push(`BatchUpdateFindings: ${ids.length} findings (1-100)`);
      if (
        input.Note &&
        (input.Note.Text!.length > 512 || input.Note.UpdatedBy!.length > 128 || !input.Note.Text!.trim())
      )
        this.violations.push('BatchUpdateFindings: Note.Text must be 1-512 and UpdatedBy 1-128 characters');
      if (input.Workflow?.Status && !WORKFLOW.includes(input.Workflow.Status))
        this.violations.push(`BatchUpdateFindings: Workflow.Status ${input.Workflow.Status}`);
      const processed: typeof ids = [];
      const unprocessed: Array<{ FindingIdentifier: (typeof ids)[number]; ErrorCode: string; ErrorMessage: string }> =
        [];
      for (const id of ids) {
        const finding = this.findings.get(`${id.ProductArn}|${id.Id}`);
        if (!finding) {
          unprocessed.push({ FindingIdentifier: id, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' });
          continue;
        }
        if (input.Workflow?.Status) finding.workflow = input.Workflow.Status;
        if (input.Note) finding.note = { Text: input.Note.Text!, UpdatedBy: input.Note.UpdatedBy! };
        processed.push(id);
      }
      return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
    });
    this.stub.on(BatchUpdateFindingsV2Command).callsFake((input: BatchUpdateFindingsV2CommandInput) => {
      this.calls.push(input);
      this.throttle();
      const ids = input.FindingIdentifiers ?? [];
      if (input.StatusId !== undefined && !OCSF_STATUS_IDS.includes(input.StatusId))
        this.violations.push(`BatchUpdateFindingsV2: StatusId ${input.StatusId}`);
      if (input.Comment !== undefined && (input.Comment.length > 512 || !input.Comment.trim()))
        this.violations.push('BatchUpdateFindingsV2: Comment must be 1-512 characters');
      const unprocessed = ids
        .filter((id) => !this.findingsV2.has(v2Key(id)))
        .map((id) => ({
          FindingIdentifier: id,
          ErrorCode: 'ResourceNotFoundException' as const,
          ErrorMessage: 'not found',
        }));
      for (const id of ids) {
        const finding = this.findingsV2.get(v2Key(id));
        if (!finding) continue;
        if (input.StatusId !== undefined) finding.statusId = input.StatusId;
        if (input.Comment !== undefined) finding.comment = input.Comment;
      }
      return {
        ProcessedFindings: ids.filter((id) => this.findingsV2.has(v2Key(id))).map((id) => ({ FindingIdentifier: id })),
        UnprocessedFindings: unprocessed,
      };
    });
  }

  addFinding(productArn: string, id: string, workflow = 'NEW'): void {
    this.findings.set(`${productArn}|${id}`, { workflow });
  }

  finding(productArn: string, id: string): FakeHubFinding | undefined {
    return this.findings.get(`${productArn}|${id}`);
  }

  addFindingV2(ids: { accountUid: string; productUid: string; findingUid: string }, statusId = 1): void {
    this.findingsV2.set(`${ids.accountUid}|${ids.productUid}|${ids.findingUid}`, { statusId });
  }

  findingV2(ids: { accountUid: string; productUid: string; findingUid: string }) {
    return this.findingsV2.get(`${ids.accountUid}|${ids.productUid}|${ids.findingUid}`);
  }

  restore(): void {
    this.stub.restore();
  }

  private throttle(): void {
    if (this.throttleNext > 0) {
      this.throttleNext--;
      const err = new Error('Rate exceeded');
      err.name = 'ThrottlingException';
      Object.assign(err, { $metadata: { httpStatusCode: 429 }, $fault: 'client' });
      throw err;
    }
  }
}

const v2Key = (id: {
  CloudAccountUid?: string | undefined;
  MetadataProductUid?: string | undefined;
  FindingInfoUid?: string | undefined;
}) => `${id.CloudAccountUid}|${id.MetadataProductUid}|${id.FindingInfoUid}`;
