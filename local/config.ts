import { resolve } from 'node:path';
import { ConfigurationError } from '@core/shared/errors';
import { DEFAULT_TABLE_NAME } from '@core/store/table';
import { jiraConfigured, readJiraConfig, type JiraConfig } from '@connectors/sinks/jira/config';
import { localRotationMode } from '@connectors/aws/rotation-wiring';
import { readServiceNowConfig, servicenowConfigured, type ServiceNowConfig } from '@connectors/sinks/servicenow/config';

/** The local hub's configuration, read once from the environment. */
export interface LocalConfig {
  /** Local data: DynamoDB Local's files, the deployment key. */
  home: string;
  tableName: string;
  /** A DynamoDB to use instead of starting DynamoDB Local. */
  dynamoEndpoint?: string;
  /** The hub's clock, fixed for simulations and tests. */
  now?: string;
  /** A policy JSON file (CLOSELOOP_POLICY); defaults apply to everything it leaves out. */
  policyFile?: string;
  /** Names granted the approver role for quick local use (CLOSELOOP_APPROVERS=a,b). */
  approvers: string[];
  /** Jira Cloud, when JIRA_BASE_URL is set. */
  jira?: JiraConfig;
  /** ServiceNow (tasks and CMDB), when SERVICENOW_URL is set. */
  servicenow?: ServiceNowConfig;
  /** Shared secrets of the inbound webhooks. */
  webhookSecrets: { jira?: string; servicenow?: string };
  /** Rotation calls AWS when AWS_ENDPOINT_URL_SECRETS_MANAGER / _IAM / _STS is set; otherwise a dry run. */
  rotation: 'aws' | 'dry_run';
}

export function readLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const now = env.CLOSELOOP_NOW?.trim() || undefined;
  if (now !== undefined && (!/^\d{4}-\d{2}-\d{2}/.test(now) || Number.isNaN(Date.parse(now)))) {
    throw new ConfigurationError(
      `CLOSELOOP_NOW must be an ISO-8601 date or instant, got ${JSON.stringify(now.slice(0, 40))}`,
    );
  }
  const tableName = env.CLOSELOOP_TABLE?.trim() || DEFAULT_TABLE_NAME;
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
    throw new ConfigurationError(
      `CLOSELOOP_TABLE must be 3-255 characters of letters, digits, "_", "-" or ".", got ${JSON.stringify(tableName.slice(0, 40))}`,
    );
  }
  return {
    home: resolve(env.CLOSELOOP_HOME?.trim() || '.closeloop'),
    tableName,
    ...(env.AWS_ENDPOINT_URL_DYNAMODB?.trim() ? { dynamoEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB.trim() } : {}),
    ...(now ? { now } : {}),
    ...(env.CLOSELOOP_POLICY?.trim() ? { policyFile: resolve(env.CLOSELOOP_POLICY.trim()) } : {}),
    approvers: (env.CLOSELOOP_APPROVERS ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
    ...(jiraConfigured(env) ? { jira: readJiraConfig(env) } : {}),
    ...(servicenowConfigured(env) ? { servicenow: readServiceNowConfig(env) } : {}),
    webhookSecrets: {
      ...(env.JIRA_WEBHOOK_SECRET?.trim() ? { jira: env.JIRA_WEBHOOK_SECRET.trim() } : {}),
      ...(env.SERVICENOW_WEBHOOK_SECRET?.trim() ? { servicenow: env.SERVICENOW_WEBHOOK_SECRET.trim() } : {}),
    },
    rotation: localRotationMode(env),
  };
}
