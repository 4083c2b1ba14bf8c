import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { SourceRef } from '@core/finding/model';
import { CloseloopError } from '@core/shared/errors';
import type { SourceWriter, WritebackOutcome, WritebackRequest } from '@core/writeback/ports';
import { HttpRequestFailedError, requestWithRetry, type RetryPolicy } from '../http/retrying-http';

/** Settings of the GitHub write-back: the API (GitHub.com or a GitHub Enterprise Server's `/api/v3`) and a token. */
export interface GithubWriterConfig {
  apiUrl: string;
  /** Fine-grained: "Secret scanning alerts" read and write; classic: `security_events` (`public_repo` for public repositories). */
  token: string;
  retry?: RetryPolicy;
}

/** The fields of a secret scanning alert the write-back reads. */
const AlertStateSchema = z.object({
  state: z.enum(['open', 'resolved']),
  resolution: z.string().nullish(),
});

/** The resolution GitHub shows, from what closed the finding. */
export type GithubResolution = 'revoked' | 'false_positive' | 'wont_fix';

/**
 * Secret scanning alerts: `PATCH /repos/{owner}/{repo}/secret-scanning/alerts/{number}`.
 * - resolved on evidence → `resolved`, `revoked` when the evidence proves the credential revoked
 *   (rotation, deactivation, revocation at source, an inactive validity check), otherwise
 *   `wont_fix`: GitHub would otherwise count an unrevoked secret as fixed. The resolution comment
 *   names the finding and the evidence.
 * - false positive → `resolved` as `false_positive`, with the approver's reason.
 * - reopened → `open` (GitHub refuses a comment then).
 * The alert is read first: one already in the target state (resolved by someone in GitHub, or by
 * an earlier attempt whose answer was lost) is left as it is, so nothing is ever sent twice and a
 * person's own resolution is never overwritten. A ticket or an accepted risk has no GitHub state.
 */
export class GithubWriter implements SourceWriter {
  constructor(
    private readonly http: AxiosInstance,
    private readonly config: GithubWriterConfig,
  ) {}

  async write(ref: SourceRef, request: WritebackRequest): Promise<WritebackOutcome> {
    if (ref.system !== 'github') throw new CloseloopError(`GitHub cannot update a ${ref.system} record`);
    const name = `alert ${ref.repository}#${ref.alert}`;
    let target: { state: 'open' | 'resolved'; resolution?: GithubResolution; resolution_comment?: string };
    switch (request.op) {
      case 'notify':
        return { outcome: 'skipped', reason: 'a GitHub alert has no ticket state' };
      case 'accept_risk':
        return { outcome: 'skipped', reason: 'GitHub has no state for a risk accepted until a date' };
      case 'resolve':
        target = {
          state: 'resolved',
          resolution: request.revoked ? 'revoked' : 'wont_fix',
          resolution_comment: request.text,
        };
        break;
      case 'false_positive':
        target = { state: 'resolved', resolution: 'false_positive', resolution_comment: request.text };
        break;
      case 'reopen':
        target = { state: 'open' };
        break;
    }
    const url = `${this.config.apiUrl.replace(/\/$/, '')}/repos/${ref.repository
      .split('/')
      .map(encodeURIComponent)
      .join('/')}/secret-scanning/alerts/${ref.alert}`;
    const headers = {
      Authorization: `Bearer ${this.config.token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
    };
    let current: z.infer<typeof AlertStateSchema>;
    try {
      const response = await requestWithRetry<unknown>(this.http, { method: 'GET', url, headers }, this.config.retry);
      current = AlertStateSchema.parse(response.data);
    } catch (err) {
      // The repository, or the alert, is gone (or secret scanning was turned off): nothing left to tell.
      if (err instanceof HttpRequestFailedError && (err.status === 404 || err.status === 410))
        return { outcome: 'skipped', reason: `${name} no longer exists at GitHub (HTTP ${err.status})` };
      throw err;
    }
    if (current.state === target.state)
      return {
        outcome: 'unchanged',
        detail: `GitHub ${name} was already ${current.state}${current.resolution ? ` (${current.resolution})` : ''}`,
      };
    await requestWithRetry(this.http, { method: 'PATCH', url, headers, data: target }, this.config.retry);
    return {
      outcome: 'written',
      detail: `GitHub ${name} ${target.state === 'open' ? 'reopened' : `resolved as ${target.resolution}`}`,
    };
  }
}
