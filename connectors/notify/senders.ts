import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { NotificationChannel } from '@core/notify/model';
import type { NotificationSender } from '@core/notify/ports';
import type { RetryPolicy } from '../http/retrying-http';
import { SlackSender } from './slack';
import { SnsSender } from './sns';
import { TeamsSender } from './teams';
import { webhookUrlProblem } from './webhook-post';

/** Webhook URLs by channel name: the NotificationWebhooks secret deployed, the local file locally. */
export const WebhookUrlsSchema = z.record(z.string(), z.string().min(1));

/** Where the webhook URLs of the channels come from, and what is wrong with them if anything. */
export interface WebhookUrls {
  urls: Record<string, string>;
  /** Names the place to put them in messages (`the NotificationWebhooks secret`). */
  source: string;
  /** Why none can be used (unreadable, not JSON, readable by others); never quotes a URL. */
  problem?: string;
}

/** The local file of webhook URLs: `$CLOSELOOP_HOME/notify-webhooks.json`, mode 0600. */
export const LOCAL_WEBHOOKS_FILE = 'notify-webhooks.json';

/**
 * Reads the local webhook URLs. The file must be readable by its owner only, like an SSH key:
 * the URLs are the credentials (anyone holding one can post into the channel). A missing file
 * is no URLs; a problem is reported per channel, never thrown, so a tick still does its work.
 */
export function readLocalWebhookUrls(home: string): WebhookUrls {
  const file = join(home, LOCAL_WEBHOOKS_FILE);
  const source = file;
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return { urls: {}, source };
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0)
    return {
      urls: {},
      source,
      problem: `${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it: webhook URLs are credentials`,
    };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { urls: {}, source, problem: `${file} is not JSON (expected {"<channel name>": "<webhook URL>"})` };
  }
  return parseWebhookUrls(json, source);
}

/** Webhook URLs from parsed JSON (the secret's value or the local file); problems never quote a value. */
export function parseWebhookUrls(json: unknown, source: string): WebhookUrls {
  const parsed = WebhookUrlsSchema.safeParse(json ?? {});
  if (!parsed.success)
    return { urls: {}, source, problem: `${source} must be a JSON object of "<channel name>": "<webhook URL>"` };
  return { urls: parsed.data, source };
}

export interface SenderSettings {
  webhooks: WebhookUrls;
  /** The SNS topic email channels publish to (deployed: the stack's NotificationTopic). */
  sns?: { client: SNSClient; topicArn: string };
  http: AxiosInstance;
  retry?: RetryPolicy;
}

/** The sender of each channel of the policy, or why this process cannot send to it. */
export function channelSenders(settings: SenderSettings) {
  return (channel: NotificationChannel): NotificationSender | { unavailable: string } => {
    if (channel.kind === 'email') {
      if (!settings.sns)
        return {
          unavailable:
            'email goes through SNS, and no topic is configured here (deployed: the stack sets it; locally CLOSELOOP_NOTIFY_TOPIC_ARN with AWS_ENDPOINT_URL_SNS)',
        };
      return new SnsSender(channel.name, settings.sns.topicArn, settings.sns.client);
    }
    const { webhooks } = settings;
    if (webhooks.problem) return { unavailable: webhooks.problem };
    const url = webhooks.urls[channel.name];
    if (!url) return { unavailable: `no webhook URL for "${channel.name}" in ${webhooks.source}` };
    const problem = webhookUrlProblem(url);
    if (problem) return { unavailable: `the webhook URL for "${channel.name}" in ${webhooks.source} ${problem}` };
    return channel.kind === 'slack'
      ? new SlackSender(channel.name, url, settings.http, settings.retry)
      : new TeamsSender(channel.name, url, settings.http, settings.retry);
  };
}
