import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import type { TicketDraft } from '@core/tickets/ports';
import { DEFAULT_RETRY_POLICY, requestWithRetry, type RetryPolicy } from '../../http/retrying-http';
import { JiraResponseError, JiraSink, type JiraListedIssue } from '../jira/jira-sink';
import type { JiraDcConfig } from './config';
import { commentText, draftText, workMarker } from './wiki';

/** `POST /rest/api/2/search` → SearchResultsBean (the fields asked for). */
const SearchResultsSchema = z.object({
  startAt: z.number().int().default(0),
  maxResults: z.number().int().default(0),
  total: z.number().int().default(0),
  issues: z
    .array(
      z.object({
        key: z.string(),
        fields: z
          .object({ labels: z.array(z.string()).default([]) })
          .partial()
          .default({}),
      }),
    )
    .default([]),
});

/** `GET /rest/api/2/user/search?username=` → UserBean[]. */
const UsersSchema = z.array(
  z.object({ name: z.string(), emailAddress: z.string().optional(), active: z.boolean().optional() }),
);

/** The HTTP client of a Data Center site: a personal access token as a Bearer token. */
export function jiraDcHttp(config: Pick<JiraDcConfig, 'baseUrl' | 'token'>): AxiosInstance {
  return axios.create({
    baseURL: config.baseUrl,
    timeout: 30_000,
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: `Bearer ${config.token}`,
    },
  });
}

/**
 * Jira Data Center / Server, REST API v2: the Jira Cloud sink's exactly-once behaviour (bulk
 * create with per-item errors, lookup by label through JQL before any re-create, comments that
 * carry their work id, priority on escalation, transitions by name or status category), with
 * what differs on Data Center: a personal access token, wiki-markup (or plain-text) descriptions
 * and comments, `POST /rest/api/2/search` paged by `startAt`, and assignees by user name.
 */
export class JiraDcSink extends JiraSink {
  override readonly kind = 'jira-dc' as const;
  protected override readonly api = '/rest/api/2';

  constructor(
    private readonly dc: JiraDcConfig,
    retry: RetryPolicy = DEFAULT_RETRY_POLICY,
    http: AxiosInstance = jiraDcHttp(dc),
  ) {
    super(dc, retry, http);
  }

  protected override description(d: TicketDraft): string {
    return draftText(d, this.dc.textFormat);
  }

  protected override commentPayload(text: string, workId: string): Record<string, unknown> {
    return { body: commentText(text, workId, this.dc.textFormat) };
  }

  protected override carriesWork(comment: { body?: unknown }, workId: string): boolean {
    return typeof comment.body === 'string' && comment.body.includes(workMarker(workId));
  }

  protected override async findUser(email: string): Promise<Record<string, string> | null> {
    const response = await requestWithRetry<unknown>(
      this.http,
      { method: 'GET', url: `${this.api}/user/search`, params: { username: email, maxResults: 10 } },
      this.retry,
    );
    const users = UsersSchema.safeParse(response.data);
    if (!users.success) throw new JiraResponseError('Jira user search answered without a list of users');
    const active = users.data.filter((u) => u.active !== false);
    const exact = active.filter((u) => u.emailAddress?.toLowerCase() === email);
    const name = exact[0]?.name ?? (active.length === 1 ? active[0]!.name : undefined);
    return name ? { name } : null;
  }

  protected override async *searchIssues(jql: string): AsyncGenerator<JiraListedIssue[]> {
    for (let startAt = 0; ;) {
      const response = await requestWithRetry<unknown>(
        this.http,
        { method: 'POST', url: `${this.api}/search`, data: { jql, startAt, maxResults: 100, fields: ['labels'] } },
        this.retry,
      );
      const page = SearchResultsSchema.safeParse(response.data);
      if (!page.success) throw new JiraResponseError('Jira search answered without a list of issues');
      yield page.data.issues;
      startAt += page.data.issues.length;
      if (page.data.issues.length === 0 || startAt >= page.data.total) return;
    }
  }
}
