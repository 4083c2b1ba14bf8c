import { isAxiosError, type AxiosInstance } from 'axios';
import { AmbiguousOutcomeError } from '@core/shared/errors';
import {
  DEFAULT_RETRY_POLICY,
  HttpRequestFailedError,
  HttpRetryExhaustedError,
  requestWithRetry,
  type RetryPolicy,
} from '../http/retrying-http';
import type { Digest, SendOptions } from '@core/notify/model';
import type { NotificationSender } from '@core/notify/ports';
import { NotificationChannelError } from './errors';

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A webhook URL closeloop may post to: https, or http on the loopback interface (local stand-ins). */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) return undefined;
  return 'must be an https URL';
}

/** What the channel said, when it is a short code (`channel_not_found`, `WorkflowTriggerIsNotEnabled`). */
function answerCode(data: unknown): string | undefined {
  const code =
    typeof data === 'string'
      ? data.trim()
      : typeof data === 'object' && data !== null
        ? ((data as { error?: { code?: unknown } }).error?.code ?? (data as { code?: unknown }).code)
        : undefined;
  return typeof code === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(code) ? code : undefined;
}

/**
 * Posts a JSON message to a chat webhook once. A 429 is retried as the channel asks (Retry-After:
 * it did not take the message); a 4xx is a refusal; a timeout, a reset or a 5xx may have
 * delivered it, so it is not repeated here (the notifier sends the digest again next run, marked
 * as a possible repeat). Errors name the channel, never the URL.
 */
export async function postToWebhook(
  http: AxiosInstance,
  url: string,
  body: unknown,
  what: string,
  accept: (status: number, data: unknown) => boolean,
  retry: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<void> {
  let status: number;
  let data: unknown;
  try {
    const response = await requestWithRetry<unknown>(
      http,
      {
        method: 'POST',
        url,
        data: body,
        headers: { 'content-type': 'application/json' },
        timeout: 20_000,
        // The URL's path is the credential: never log or follow it anywhere else.
        maxRedirects: 0,
      },
      retry,
      { idempotent: false },
    );
    status = response.status;
    data = response.data;
  } catch (err) {
    if (err instanceof HttpRequestFailedError) {
      const cause = err.cause;
      const code = isAxiosError(cause) ? answerCode(cause.response?.data) : undefined;
      throw new NotificationChannelError(
        `${what} refused the message: HTTP ${err.status}${code ? ` ${code}` : ''}`,
        err.notApplied,
      );
    }
    if (err instanceof HttpRetryExhaustedError)
      throw new NotificationChannelError(`${what} kept answering HTTP ${err.status ?? '(none)'}`, err.status === 429);
    if (err instanceof AmbiguousOutcomeError) {
      const cause = err.cause;
      const detail = isAxiosError(cause)
        ? cause.response
          ? `HTTP ${cause.response.status}`
          : (cause.code ?? 'no answer')
        : 'no answer';
      // No connection at all: nothing can have arrived.
      if (isAxiosError(cause) && !cause.response && NOT_CONNECTED.has(cause.code ?? ''))
        throw new NotificationChannelError(`${what} could not be reached (${detail})`, true);
      throw new NotificationChannelError(`${what} gave no clear answer (${detail}); it may have arrived`, false);
    }
    throw new NotificationChannelError(`${what}: ${err instanceof Error ? err.name : 'unknown error'}`, false);
  }
  if (!accept(status, data)) {
    const code = answerCode(data);
    throw new NotificationChannelError(
      `${what} answered HTTP ${status}${code ? ` ${code}` : ''} instead of accepting the message`,
      false,
    );
  }
}

/** A chat incoming webhook (Slack, Teams): one message per digest, posted by `postToWebhook`. */
export abstract class WebhookSender implements NotificationSender {
  abstract readonly kind: 'slack' | 'teams';
  /** The service's name in errors, e.g. `Slack`. */
  protected abstract readonly service: string;

  constructor(
    private readonly name: string,
    private readonly url: string,
    private readonly http: AxiosInstance,
    private readonly retry?: RetryPolicy,
  ) {}

  /** The message the service takes for a digest. */
  protected abstract message(digest: Digest, options: SendOptions): unknown;
  /** Whether the service's answer means it took the message. */
  protected abstract took(status: number, data: unknown): boolean;

  async send(digest: Digest, options: SendOptions): Promise<void> {
    await postToWebhook(
      this.http,
      this.url,
      this.message(digest, options),
      `${this.service} (channel "${this.name}")`,
      (status, data) => this.took(status, data),
      this.retry,
    );
  }
}
