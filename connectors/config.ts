import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigurationError } from '@core/shared/errors';
import { DEFAULT_POLICY, parsePolicy, withApprovers, type Policy } from '@core/policy/policy';

const optional = z.string().optional();
const isoInstant = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), {
    error: (issue) => `must be an ISO-8601 date or instant, got ${JSON.stringify(String(issue.input).slice(0, 40))}`,
  })
  .optional();
const tableName = z
  .string()
  .regex(/^[a-zA-Z0-9_.-]{3,255}$/, {
    error: (issue) =>
      `must be 3-255 characters of letters, digits, "_", "-" or ".", got ${JSON.stringify(String(issue.input).slice(0, 40))}`,
  })
  .optional();

/**
 * Every environment variable the hub reads, locally and in each Lambda (Jira's and ServiceNow's
 * own settings are read by their connectors' config readers, from `HubConfig.env`). Which of
 * them a process needs depends on what it runs: `HubConfig.require` asks for one at start.
 */
export const HubConfigSchema = z.object({
  /** The table (required on AWS; locally `closeloop`). */
  CLOSELOOP_TABLE: tableName,
  /** Local data: DynamoDB Local's files, the deployment key. */
  CLOSELOOP_HOME: optional,
  /** The hub's clock, fixed for simulations and tests (local). */
  CLOSELOOP_NOW: isoInstant,
  /** The policy: a JSON file locally, the policy JSON itself on AWS (the stack passes it). */
  CLOSELOOP_POLICY: optional,
  /** Names granted every approver role, for quick local use (`alice,bob`). */
  CLOSELOOP_APPROVERS: optional,
  /** A DynamoDB to use instead of starting DynamoDB Local (the SDK honours it on AWS too). */
  AWS_ENDPOINT_URL_DYNAMODB: optional,
  /**
   * Local hub: `off` sends every request alone, as the Lambdas do (for a real DynamoDB behind
   * AWS_ENDPOINT_URL_DYNAMODB, where merged transactions cost twice the write units, and for the
   * cost benchmark, which prices the deployed request pattern). Default: group commit.
   */
  CLOSELOOP_GROUP_COMMIT: z.enum(['on', 'off']).optional(),
  /** Rotation calls these endpoints locally; with none set it is a dry run. */
  AWS_ENDPOINT_URL_SECRETS_MANAGER: optional,
  AWS_ENDPOINT_URL_IAM: optional,
  AWS_ENDPOINT_URL_STS: optional,
  /** Shared secrets of the inbound webhooks (locally; on AWS they are in the ticketing secret). */
  JIRA_WEBHOOK_SECRET: optional,
  JIRA_DC_WEBHOOK_SECRET: optional,
  SERVICENOW_WEBHOOK_SECRET: optional,
  /** Pull connectors and write-back (locally; on AWS the credentials are in the sources secret). */
  GITHUB_TOKEN: optional,
  GITHUB_API_URL: z.string().default('https://api.github.com'),
  GITGUARDIAN_API_KEY: optional,
  GITGUARDIAN_API_URL: z.string().default('https://api.gitguardian.com'),
  /** Shared secret of the GitHub `secret_scanning_alert` webhook (locally; on AWS in the sources secret). */
  GITHUB_WEBHOOK_SECRET: optional,
  /** Locally: write back to Security Hub at this endpoint (with the normal AWS credential chain); unset, not at all. */
  AWS_ENDPOINT_URL_SECURITYHUB: optional,
  /** AWS: the scanners the deploy file's `sources` configures (`github,gitguardian`). */
  CLOSELOOP_SOURCES: optional,
  /** AWS: the Secrets Manager secret with the GitHub token and webhook secret and the GitGuardian API key. */
  CLOSELOOP_SOURCES_SECRET: optional,
  /** AWS: what the scheduled GitHub pull reads (`org:acme,repo:acme/api`). */
  CLOSELOOP_GITHUB_SCOPES: optional,
  /** AWS: the Secrets Manager secret holding the deployment key (functions that see secrets). */
  CLOSELOOP_DEPLOYMENT_KEY_SECRET: optional,
  /** AWS: the Secrets Manager secret with the Jira / ServiceNow credentials and webhook secrets. */
  CLOSELOOP_TICKETING_SECRET: optional,
  /** The Secrets Manager secret with the notification channels' webhook URLs (AWS; locally a file in CLOSELOOP_HOME). */
  CLOSELOOP_NOTIFY_SECRET: optional,
  /** The SNS topic email notification channels publish to (AWS: the stack's; locally with AWS_ENDPOINT_URL_SNS). */
  CLOSELOOP_NOTIFY_TOPIC_ARN: optional,
  /** AWS: the lifecycle state machine (the starter sweep). */
  CLOSELOOP_LIFECYCLE_STATE_MACHINE: optional,
  /** AWS: the secret rotation state machine (retirements after scheduled rotations). */
  CLOSELOOP_ROTATION_STATE_MACHINE: optional,
  /** AWS: the ticket sync queue the outbox relay feeds. */
  CLOSELOOP_TICKET_QUEUE_URL: optional,
  /** AWS: report exports (bucket and worker function). */
  CLOSELOOP_EXPORT_BUCKET: optional,
  CLOSELOOP_REPORT_EXPORT_FUNCTION: optional,
  /** AWS: the secret the report API signs its paging cursors with. */
  CLOSELOOP_REPORT_CURSOR_SECRET: optional,
  /**
   * The deployed audit trail's digests: the Object Lock bucket and the KMS signing key's ARN (the
   * digest writer; `closeloop audit verify` with them set verifies the deployed trail).
   */
  CLOSELOOP_DIGEST_BUCKET: optional,
  CLOSELOOP_DIGEST_KEY: optional,
});
export type HubSettings = z.infer<typeof HubConfigSchema>;
export type HubVariable = keyof HubSettings;

/** The hub's configuration, read once at start. */
export interface HubConfig {
  readonly settings: HubSettings;
  /** Every variable as given, trimmed, empty ones left out: what the connectors' config readers read. */
  readonly env: Readonly<Record<string, string>>;
  /** A variable this process cannot run without: `NAME is required` when it is unset. */
  require<K extends HubVariable>(name: K): NonNullable<HubSettings[K]>;
}

/** Reads and checks the hub's configuration; the first problem names the variable. */
export function readHubConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const given: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const trimmed = value?.trim();
    if (trimmed) given[name] = trimmed;
  }
  const parsed = HubConfigSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')} ${issue.message}`);
  }
  const settings = parsed.data;
  return {
    settings,
    env: given,
    require(name) {
      const value = settings[name];
      if (value === undefined) throw new ConfigurationError(`${name} is required`);
      return value as NonNullable<HubSettings[typeof name]>;
    },
  };
}

/** Names from a comma-separated list (`alice, bob`). */
export const listOf = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);

/** Locally, rotation calls AWS only when one of its endpoint variables is set; otherwise it is a dry run. */
export const localRotationMode = (settings: HubSettings): 'aws' | 'dry_run' =>
  settings.AWS_ENDPOINT_URL_SECRETS_MANAGER || settings.AWS_ENDPOINT_URL_IAM || settings.AWS_ENDPOINT_URL_STS
    ? 'aws'
    : 'dry_run';

/** The policy the stack passes as JSON in CLOSELOOP_POLICY (the shipped defaults when unset). */
export function policyFromJson(text: string | undefined): Policy {
  if (!text) return DEFAULT_POLICY;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigurationError('CLOSELOOP_POLICY: is not JSON', { cause: err });
  }
  return parsePolicy(json, 'CLOSELOOP_POLICY');
}

/** A policy file (CLOSELOOP_POLICY locally) with the approvers applied; problems name the field. */
export function policyFromFile(file: string | undefined, approvers: string[]): Policy {
  let policy = DEFAULT_POLICY;
  if (file) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigurationError(`CLOSELOOP_POLICY ${file}: cannot be read as JSON`, { cause: err });
    }
    policy = parsePolicy(json, file);
  }
  return withApprovers(policy, approvers);
}

/** The local data directory (CLOSELOOP_HOME), absolute. */
export const homeDirectory = (settings: HubSettings) => resolve(settings.CLOSELOOP_HOME ?? '.closeloop');
