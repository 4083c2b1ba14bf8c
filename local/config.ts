import { resolve } from 'node:path';
import { DEFAULT_TABLE_NAME } from '@core/store/table';
import { homeDirectory, listOf, localRotationMode, readHubConfig, type HubConfig } from '@connectors/config';
import type { JiraConfig } from '@connectors/sinks/jira/config';
import type { JiraDcConfig } from '@connectors/sinks/jira-dc/config';
import type { ServiceNowConfig } from '@connectors/sinks/servicenow/config';
import { sinkConfigs } from '@connectors/wiring/ticketing';

/** The local hub's configuration: the hub's configuration (connectors/config.ts) as the local runtime uses it. */
export interface LocalConfig {
  /** What it was read from (the pull connectors' settings, among others). */
  hub: HubConfig;
  /** Local data: DynamoDB Local's files, the deployment key. */
  home: string;
  tableName: string;
  /** A DynamoDB to use instead of starting DynamoDB Local. */
  dynamoEndpoint?: string;
  /**
   * Concurrent single-item requests go out merged (core/store/group-commit.ts) and a lifecycle's start
   * is one write (core/finding/write-behind.ts); CLOSELOOP_GROUP_COMMIT=off turns both off.
   */
  groupCommit: boolean;
  /** The hub's clock, fixed for simulations and tests. */
  now?: string;
  /** A policy JSON file (CLOSELOOP_POLICY); defaults apply to everything it leaves out. */
  policyFile?: string;
  /** Names granted the approver role for quick local use (CLOSELOOP_APPROVERS=a,b). */
  approvers: string[];
  /** Jira Cloud, when JIRA_BASE_URL is set. */
  jira?: JiraConfig;
  /** Jira Data Center / Server, when JIRA_DC_BASE_URL is set. */
  jiraDc?: JiraDcConfig;
  /** ServiceNow (tasks and CMDB), when SERVICENOW_URL is set. */
  servicenow?: ServiceNowConfig;
  /** Shared secrets of the inbound webhooks. */
  webhookSecrets: { jira?: string; 'jira-dc'?: string; servicenow?: string };
  /** Rotation calls AWS when AWS_ENDPOINT_URL_SECRETS_MANAGER / _IAM / _STS is set; otherwise a dry run. */
  rotation: 'aws' | 'dry_run';
}

/** Reads the local hub's configuration once; a problem names the variable. */
export function readLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const hub = readHubConfig(env);
  const s = hub.settings;
  return {
    hub,
    home: homeDirectory(s),
    tableName: s.CLOSELOOP_TABLE ?? DEFAULT_TABLE_NAME,
    ...(s.AWS_ENDPOINT_URL_DYNAMODB ? { dynamoEndpoint: s.AWS_ENDPOINT_URL_DYNAMODB } : {}),
    groupCommit: s.CLOSELOOP_GROUP_COMMIT !== 'off',
    ...(s.CLOSELOOP_NOW ? { now: s.CLOSELOOP_NOW } : {}),
    ...(s.CLOSELOOP_POLICY ? { policyFile: resolve(s.CLOSELOOP_POLICY) } : {}),
    approvers: listOf(s.CLOSELOOP_APPROVERS),
    // Locally the credentials are variables too (JIRA_API_TOKEN, SERVICENOW_PASSWORD or _TOKEN).
    ...sinkConfigs(hub),
    webhookSecrets: {
      ...(s.JIRA_WEBHOOK_SECRET ? { jira: s.JIRA_WEBHOOK_SECRET } : {}),
      ...(s.JIRA_DC_WEBHOOK_SECRET ? { 'jira-dc': s.JIRA_DC_WEBHOOK_SECRET } : {}),
      ...(s.SERVICENOW_WEBHOOK_SECRET ? { servicenow: s.SERVICENOW_WEBHOOK_SECRET } : {}),
    },
    rotation: localRotationMode(s),
  };
}
