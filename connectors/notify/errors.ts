import { CloseloopError } from '@core/shared/errors';

/**
 * A channel did not take a digest. The message names the channel and what it answered, never the
 * webhook URL (the URL is the credential). That is why the senders never pass the HTTP client's
 * error as the cause: it carries the URL, and a logged cause would print it.
 */
export class NotificationChannelError extends CloseloopError {
  /**
   * @param notApplied the channel certainly refused the message, a 4xx: sending it again would not
   * make it arrive twice.
   */
  constructor(
    message: string,
    readonly notApplied: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'NotificationChannelError';
  }
}
