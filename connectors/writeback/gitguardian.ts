import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { SourceRef } from '@core/finding/model';
import { CloseloopError } from '@core/shared/errors';
import type { SourceWriter, WritebackOutcome, WritebackRequest } from '@core/writeback/ports';
import { HttpRequestFailedError, linkPages, requestWithRetry, type RetryPolicy } from '../http/retrying-http';

/** Settings of the GitGuardian write-back: the API and a token with `incidents:write`. */
export interface GitguardianWriterConfig {
  apiUrl: string;
  token: string;
  retry?: RetryPolicy;
}

const IncidentStateSchema = z.object({ status: z.enum(['TRIGGERED', 'ASSIGNED', 'RESOLVED', 'IGNORED']) });
const NoteSchema = z.object({ comment: z.string().nullish() });

/**
 * Secret incidents (`/v1/incidents/secrets/{id}`):
 * - resolved on evidence → `POST …/resolve` with `secret_revoked` true only when the evidence
 *   proves the credential revoked;
 * - false positive → `POST …/ignore` with `ignore_reason: false_positive`;
 * - reopened → `POST …/reopen`;
 * - an accepted risk and a new ticket → a note only (GitGuardian's states have no end date).
 * Every op adds a note (`POST …/notes`) naming the finding and the evidence. The incident's status
 * is read first and the transition is sent only when it is not there yet; the notes are read for
 * this work's id before one is added, so a retry after a lost answer adds no second note.
 */
export class GitguardianWriter implements SourceWriter {
  constructor(
    private readonly http: AxiosInstance,
    private readonly config: GitguardianWriterConfig,
  ) {}

  private get headers() {
    return { Authorization: `Token ${this.config.token}`, Accept: 'application/json' };
  }

  async write(ref: SourceRef, request: WritebackRequest): Promise<WritebackOutcome> {
    if (ref.system !== 'gitguardian') throw new CloseloopError(`GitGuardian cannot update a ${ref.system} record`);
    const base = `${this.config.apiUrl.replace(/\/$/, '')}/v1/incidents/secrets/${ref.incident}`;
    const name = `incident ${ref.incident}`;
    let status: z.infer<typeof IncidentStateSchema>['status'];
    try {
      const response = await requestWithRetry<unknown>(
        this.http,
        { method: 'GET', url: base, headers: this.headers },
        this.config.retry,
      );
      status = IncidentStateSchema.parse(response.data).status;
    } catch (err) {
      if (err instanceof HttpRequestFailedError && err.status === 404)
        return { outcome: 'skipped', reason: `GitGuardian ${name} no longer exists (HTTP 404)` };
      throw err;
    }
    const closed = status === 'RESOLVED' || status === 'IGNORED';
    let transition: { path: string; body: Record<string, unknown>; detail: string } | undefined;
    switch (request.op) {
      case 'resolve':
        if (!closed)
          transition = {
            path: 'resolve',
            body: { secret_revoked: request.revoked },
            detail: `resolved${request.revoked ? ' (secret revoked)' : ' (revocation not proven)'}`,
          };
        break;
      case 'false_positive':
        if (!closed)
          transition = {
            path: 'ignore',
            body: { ignore_reason: 'false_positive' },
            detail: 'ignored as a false positive',
          };
        break;
      case 'reopen':
        if (closed) transition = { path: 'reopen', body: {}, detail: 'reopened' };
        break;
      case 'accept_risk':
      case 'notify':
        break;
    }
    if (transition)
      await requestWithRetry(
        this.http,
        { method: 'POST', url: `${base}/${transition.path}`, headers: this.headers, data: transition.body },
        this.config.retry,
      );
    const noted = await this.hasNote(base, request.workId);
    if (!noted)
      await requestWithRetry(
        this.http,
        { method: 'POST', url: `${base}/notes`, headers: this.headers, data: { comment: request.text } },
        this.config.retry,
        // A lost answer to a create may have added it: the next attempt looks before adding again.
        { idempotent: false },
      );
    if (!transition && noted)
      return { outcome: 'unchanged', detail: `GitGuardian ${name} was already ${status.toLowerCase()}, with the note` };
    return {
      outcome: 'written',
      detail: `GitGuardian ${name} ${transition ? transition.detail : `noted (${status.toLowerCase()})`}`,
    };
  }

  /** Whether a note of this work is on the incident already. */
  private async hasNote(base: string, workId: string): Promise<boolean> {
    for await (const page of linkPages<unknown>(
      this.http,
      `${base}/notes?per_page=100`,
      this.headers,
      this.config.retry,
    ))
      if (page.some((n) => NoteSchema.safeParse(n).data?.comment?.includes(`[${workId}]`))) return true;
    return false;
  }
}
