import { z } from 'zod';
import { ConfigurationError } from '@core/shared/errors';
import { PolicySchema } from '@core/policy/policy';
import { parseRecord } from '@core/shared/problems';
import { JIRA_CREDENTIALS, JiraSettingsSchema, readJiraConfig } from './sinks/jira/config';
import { JIRA_DC_CREDENTIALS, JiraDcSettingsSchema, readJiraDcConfig } from './sinks/jira-dc/config';
import { readServiceNowConfig, SERVICENOW_CREDENTIALS, ServiceNowSettingsSchema } from './sinks/servicenow/config';

const partition = 'aws[a-z-]*';
/** A complete secret ARN, with the six characters Secrets Manager appends to the name. */
const SecretArnSchema = z
  .string()
  .regex(
    new RegExp(`^arn:${partition}:secretsmanager:[a-z0-9-]+:\\d{12}:secret:.+-[A-Za-z0-9]{6}$`),
    'must be a complete secret ARN, with the 6-character suffix (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)',
  );
/** An IAM user ARN; `*` may stand for part of the path or name (`user/legacy/*`). */
const IamUserArnSchema = z
  .string()
  .regex(
    new RegExp(`^arn:${partition}:iam::\\d{12}:user/[\\w+=,.@/*-]+$`),
    'must be an IAM user ARN (arn:aws:iam::<account>:user/<path/name>, * allowed)',
  );

/**
 * The rotation settings of the stack (infra/constructs/secret-rotation.ts): which secrets closeloop
 * rotates on a schedule, the IAM users their keys belong to, and the users whose leaked keys it
 * may contain. Rotation behaviour (grace period, checks, thresholds) is the policy's `rotation`.
 */
export const RotationSettingsSchema = z.strictObject({
  /** Secrets rotated on a schedule with the rotation function (tag each `closeloop:rotator`). */
  managedSecretArns: z.array(SecretArnSchema).optional(),
  /** IAM users whose access keys the managed secrets hold. */
  managedIamUserArns: z.array(IamUserArnSchema).optional(),
  /** IAM users whose leaked keys closeloop may deactivate and replace. */
  containmentIamUserArns: z.array(IamUserArnSchema).optional(),
  /** Days between scheduled rotations (default: the policy's rotation.scheduleDays). */
  scheduleDays: z.number().int().positive().max(365).optional(),
});
export type RotationSettings = z.infer<typeof RotationSettingsSchema>;

const OrganisationSchema = z
  .string()
  .regex(/^[A-Za-z0-9][\w.-]{0,99}$/, 'must be a GitHub organisation name (letters, digits, "-", "_", ".")');
const RepositorySchema = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name');
const ApiUrlSchema = z
  .string()
  .regex(
    /^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/,
    'must be an https:// URL (GitHub Enterprise Server: https://<host>/api/v3)',
  );
/** Minutes between scheduled pulls. */
const ScheduleMinutesSchema = z.number().int().min(5).max(1440);

/**
 * The scanners the stack connects to both ways (infra/constructs/source-connectors.ts): scheduled
 * pulls, the GitHub webhook, and write-back. Credentials are not settings: they go in the
 * SourcesSecret. GitHub without an organisation or repository gets the webhook and write-back only.
 */
export const SourcesSettingsSchema = z.strictObject({
  github: z
    .strictObject({
      org: OrganisationSchema.optional(),
      orgs: z.array(OrganisationSchema).optional(),
      repo: RepositorySchema.optional(),
      repos: z.array(RepositorySchema).optional(),
      /** GITHUB_API_URL: GitHub.com by default, or a GitHub Enterprise Server's API. */
      apiUrl: ApiUrlSchema.optional(),
      /** @default 60 */
      scheduleMinutes: ScheduleMinutesSchema.optional(),
    })
    .optional(),
  gitguardian: z
    .strictObject({
      /** GITGUARDIAN_API_URL: the SaaS API by default, or a self-hosted instance's. */
      apiUrl: ApiUrlSchema.optional(),
      /** @default 60 */
      scheduleMinutes: ScheduleMinutesSchema.optional(),
    })
    .optional(),
});
export type SourcesSettings = z.infer<typeof SourcesSettingsSchema>;

/** The GitHub scopes a `sources.github` section pulls (`org:acme`, `repo:acme/api`), each once. */
export function githubPullScopes(github: NonNullable<SourcesSettings['github']>): string[] {
  const orgs = [...(github.org ? [github.org] : []), ...(github.orgs ?? [])].map((o) => `org:${o}`);
  const repos = [...(github.repo ? [github.repo] : []), ...(github.repos ?? [])].map((r) => `repo:${r}`);
  return [...new Set([...orgs, ...repos])];
}

/** Where each scanner credential the deploy file must not hold is kept instead (the SourcesSecret). */
const SOURCE_CREDENTIALS: Record<string, string> = {
  token: 'githubToken / gitguardianApiKey',
  apiKey: 'gitguardianApiKey',
  webhookSecret: 'githubWebhookSecret',
};

/** Keys in the sources section that hold (or look like) credentials: named, never their values. */
function sourceCredentialProblems(sources: unknown): string[] {
  if (!isObject(sources)) return [];
  const problems: string[] = [];
  for (const [scanner, settings] of Object.entries(sources)) {
    if (!isObject(settings)) continue;
    for (const key of Object.keys(settings))
      if (CREDENTIAL_LIKE.test(key) || SOURCE_CREDENTIALS[key])
        problems.push(
          `"sources.${scanner}.${key}" is a credential and never goes in the deploy file: after cdk deploy, put it in the SourcesSecret (stack output)${SOURCE_CREDENTIALS[key] ? ` as "${SOURCE_CREDENTIALS[key]}"` : ''}`,
        );
  }
  return problems;
}

/** Environment values as a deploy file may write them: numbers become the strings the functions get. */
const asEnvironment = (schema: z.ZodType) =>
  z.preprocess(
    (value) =>
      isObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]))
        : value,
    schema,
  );

/**
 * Where tickets go: each system's settings are the environment variables its connector reads
 * (JIRA_*, SERVICENOW_*), checked by the connector's own schema. Credentials are not settings.
 */
export const TicketingSettingsSchema = z.strictObject({
  jira: asEnvironment(JiraSettingsSchema.strict()).optional(),
  /** Jira Data Center / Server (JIRA_DC_*). */
  'jira-dc': asEnvironment(JiraDcSettingsSchema.strict()).optional(),
  servicenow: asEnvironment(ServiceNowSettingsSchema.strict()).optional(),
});
/** Jira / ServiceNow variables, exactly as the functions get them. */
export interface TicketingSettings {
  jira?: Record<string, string>;
  'jira-dc'?: Record<string, string>;
  servicenow?: Record<string, string>;
}

/**
 * The sections of a deploy file, each parsed with the schema its runtime uses. A new section
 * (e.g. `sources`) is one line here; anything else at the top level is refused by name.
 */
const SECTIONS = {
  /** The remediation policy: the schema of a CLOSELOOP_POLICY file. */
  policy: PolicySchema,
  ticketing: TicketingSettingsSchema,
  rotation: RotationSettingsSchema,
  sources: SourcesSettingsSchema,
} as const;
export const DEPLOY_CONFIG_SECTIONS = Object.keys(SECTIONS) as Array<keyof typeof SECTIONS>;

const DeployConfigSchema = z.object(SECTIONS).partial();

/**
 * A checked deploy file, ready to become stack props: each section as its schema parses it,
 * except the policy, kept as written (the functions apply the same defaults when they parse it,
 * and the Lambda environment stays small), and the ticketing variables as strings.
 */
export type DeployConfig = Omit<z.output<typeof DeployConfigSchema>, 'policy' | 'ticketing'> & {
  policy?: Record<string, unknown>;
  ticketing?: TicketingSettings;
};

/** Where each credential the deploy file must not hold is kept instead. */
const CREDENTIALS: Record<string, Record<string, string>> = {
  jira: JIRA_CREDENTIALS,
  'jira-dc': JIRA_DC_CREDENTIALS,
  servicenow: SERVICENOW_CREDENTIALS,
};
const CREDENTIAL_LIKE = /TOKEN|PASSWORD|SECRET|API_?KEY|CREDENTIAL|PRIVATE/i;

/** Keys in the ticketing section that hold (or look like) credentials: named, never their values. */
function credentialProblems(ticketing: unknown): string[] {
  if (!isObject(ticketing)) return [];
  const problems: string[] = [];
  for (const [system, settings] of Object.entries(ticketing)) {
    if (!isObject(settings)) continue;
    for (const key of Object.keys(settings)) {
      const field = CREDENTIALS[system]?.[key];
      if (field)
        problems.push(
          `"ticketing.${system}.${key}" is a credential and never goes in the deploy file: after cdk deploy, put it in the TicketingSecret (stack output) as "${field}"`,
        );
      else if (CREDENTIAL_LIKE.test(key))
        problems.push(
          `"ticketing.${system}.${key}" looks like a credential and never goes in the deploy file: credentials belong in the TicketingSecret (stack output)`,
        );
    }
  }
  return problems;
}

/** What the connectors' own readers say about settings the schemas accept (priorities, custom fields). */
function readerProblems(ticketing: TicketingSettings): string[] {
  const problems: string[] = [];
  // The readers want the credentials too; at deploy time they are not known, so any value stands in.
  const check = (section: string, read: () => unknown) => {
    try {
      read();
    } catch (err) {
      if (!(err instanceof ConfigurationError)) throw err;
      problems.push(
        `"ticketing.${section}": ${err.message.replace(/^(Jira|Jira Data Center|ServiceNow) configuration: /, '')}`,
      );
    }
  };
  if (ticketing.jira) check('jira', () => readJiraConfig(ticketing.jira!, { apiToken: 'placeholder' }));
  if (ticketing['jira-dc']) check('jira-dc', () => readJiraDcConfig(ticketing['jira-dc']!, { token: 'placeholder' }));
  if (ticketing.servicenow) {
    const sn = ticketing.servicenow;
    check('servicenow', () =>
      readServiceNowConfig(sn, sn.SERVICENOW_USER ? { password: 'placeholder' } : { token: 'placeholder' }),
    );
  }
  return problems;
}

/** Routes of the policy that name a ticket system the deploy file does not configure. */
function routingProblems(policy: z.infer<typeof PolicySchema> | undefined, ticketing: TicketingSettings): string[] {
  return (policy?.ticketRouting ?? []).flatMap((route, i) =>
    route.sink.kind !== 'local' && !ticketing[route.sink.kind]
      ? [
          `"policy.ticketRouting[${i}].sink" routes to ${route.sink.kind}, but "ticketing.${route.sink.kind}" is not set`,
        ]
      : [],
  );
}

/**
 * Parses a deploy file (`cdk deploy -c config=closeloop.json`). Every problem names the file and
 * the field, on one line: `closeloop.json: "policy.slaDays.critical" must be a number, got "two"`.
 */
export function parseDeployConfig(json: unknown, source: string): DeployConfig {
  const fail = (problems: string[]) => new ConfigurationError(`${source}: ${problems.join('; ')}`);
  if (!isObject(json)) throw fail([`must be a JSON object with ${DEPLOY_CONFIG_SECTIONS.join(', ')}`]);
  const unknown = Object.keys(json).filter((k) => !(DEPLOY_CONFIG_SECTIONS as string[]).includes(k));
  if (unknown.length > 0)
    throw fail(
      unknown.map(
        (k) =>
          `unknown section "${k}": a deploy file has only ${DEPLOY_CONFIG_SECTIONS.map((s) => `"${s}"`).join(', ')}`,
      ),
    );
  const credentials = [...credentialProblems(json.ticketing), ...sourceCredentialProblems(json.sources)];
  if (credentials.length > 0) throw fail(credentials);
  const parsed = parseRecord(DeployConfigSchema, json);
  if (!parsed.ok) throw fail(parsed.problems);

  const ticketing = json.ticketing as TicketingSettings | undefined;
  const settings: TicketingSettings | undefined = ticketing && {
    ...(ticketing.jira ? { jira: asStrings(ticketing.jira) } : {}),
    ...(ticketing['jira-dc'] ? { 'jira-dc': asStrings(ticketing['jira-dc']) } : {}),
    ...(ticketing.servicenow ? { servicenow: asStrings(ticketing.servicenow) } : {}),
  };
  const problems = [...readerProblems(settings ?? {}), ...routingProblems(parsed.value.policy, settings ?? {})];
  if (problems.length > 0) throw fail(problems);
  const { policy: _policy, ticketing: _ticketing, ...sections } = parsed.value;
  return {
    ...sections,
    ...(json.policy !== undefined ? { policy: json.policy as Record<string, unknown> } : {}),
    ...(settings ? { ticketing: settings } : {}),
  };
}

const asStrings = (values: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
