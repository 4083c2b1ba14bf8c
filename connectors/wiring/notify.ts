import { SNSClient } from '@aws-sdk/client-sns';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import axios, { type AxiosInstance } from 'axios';
import type { FindingStore } from '@core/finding/ports';
import type { NotifierDeps } from '@core/notify/notifier';
import type { Policy } from '@core/policy/policy';
import type { ManagedSecretStore } from '@core/rotation/managed-secrets';
import type { Clock } from '@core/shared/clock';
import { DynamoNotificationStore } from '@core/store/dynamo-notification-store';
import type { SingleTable } from '@core/store/table';
import type { HubConfig } from '../config';
import { channelSenders, parseWebhookUrls, readLocalWebhookUrls, type WebhookUrls } from '../notify/senders';
import type { LambdaServices } from './lambda';

/** Where every notification channel is wired (Slack, Teams, SNS), for the local hub and the notifier Lambda. */
export function buildNotifier(parts: {
  table: SingleTable;
  findings: FindingStore;
  secrets: ManagedSecretStore;
  clock: Clock;
  policy: Policy;
  worker: string;
  webhooks: WebhookUrls;
  /** The SNS topic of email channels, when there is one. */
  topicArn?: string | undefined;
  http?: AxiosInstance;
}): NotifierDeps {
  return {
    store: new DynamoNotificationStore(parts.table),
    findings: parts.findings,
    secrets: parts.secrets,
    clock: parts.clock,
    policy: parts.policy,
    worker: parts.worker,
    sender: channelSenders({
      webhooks: parts.webhooks,
      http: parts.http ?? axios.create(),
      // The SDK honours AWS_ENDPOINT_URL_SNS (a local stand-in) like the other clients.
      ...(parts.topicArn ? { sns: { client: new SNSClient({}), topicArn: parts.topicArn } } : {}),
    }),
  };
}

/** Locally: webhook URLs from `$CLOSELOOP_HOME/notify-webhooks.json`, SNS only with CLOSELOOP_NOTIFY_TOPIC_ARN. */
export function localNotifierSettings(config: HubConfig, home: string) {
  return { webhooks: readLocalWebhookUrls(home), topicArn: config.settings.CLOSELOOP_NOTIFY_TOPIC_ARN };
}

/**
 * On AWS: the notifier of one run, its webhook URLs read from the NotificationWebhooks secret
 * (CLOSELOOP_NOTIFY_SECRET, through Powertools: cached five minutes) and email published to the
 * stack's topic (CLOSELOOP_NOTIFY_TOPIC_ARN). Both are required at start.
 */
export function lambdaNotifier(services: LambdaServices, worker: string) {
  const secretArn = services.config.require('CLOSELOOP_NOTIFY_SECRET');
  const topicArn = services.config.require('CLOSELOOP_NOTIFY_TOPIC_ARN');
  const http = axios.create();
  return {
    async deps(): Promise<NotifierDeps> {
      const value = await getSecret(secretArn, { transform: 'json', maxAge: 300 });
      return buildNotifier({
        table: services.table,
        findings: services.store,
        secrets: services.secrets,
        clock: services.clock,
        policy: services.policy,
        worker,
        webhooks: parseWebhookUrls(value ?? {}, 'the NotificationWebhooks secret'),
        topicArn,
        http,
      });
    },
  };
}
