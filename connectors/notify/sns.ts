import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { digestText } from '@core/notify/digest';
import type { Digest, SendOptions } from '@core/notify/model';
import type { NotificationSender } from '@core/notify/ports';
import { NotificationChannelError } from './errors';

/** SNS subjects (the email subject): under 100 printable ASCII characters, no line breaks. */
export function snsSubject(digest: Digest, options: SendOptions): string {
  const subject = `${options.repeat ? '(possible repeat) ' : ''}${digest.title}`
    .replace(/[^\x20-\x7e]/g, '-')
    .replace(/\s+/g, ' ');
  return subject.length > 99 ? `${subject.slice(0, 96)}...` : subject;
}

/**
 * The stack's notification topic: email subscribers read the digest as plain text. Every message
 * carries the `channel` attribute, so a subscription's filter policy picks its channel's digests.
 */
export class SnsSender implements NotificationSender {
  readonly kind = 'email' as const;
  constructor(
    private readonly name: string,
    private readonly topicArn: string,
    private readonly sns: SNSClient,
  ) {}

  async send(digest: Digest, options: SendOptions): Promise<void> {
    try {
      await this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: snsSubject(digest, options),
          Message: digestText(digest, options),
          MessageAttributes: { channel: { DataType: 'String', StringValue: this.name } },
        }),
      );
    } catch (err) {
      const e = err as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
      // A client fault (no permission, no such topic, a bad parameter) was refused; anything else may have published.
      const refused = e.$fault === 'client';
      throw new NotificationChannelError(
        `SNS (channel "${this.name}") ${refused ? 'refused the message' : 'gave no clear answer; it may have arrived'}: ${e.name ?? 'error'}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}`,
        refused,
      );
    }
  }
}
