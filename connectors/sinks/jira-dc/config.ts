import { z } from 'zod';
import { ConfigurationError } from '@core/shared/errors';
import { parseRecord } from '@core/shared/problems';
import {
  JIRA_DEFAULT_DECISIONS,
  JIRA_DEFAULT_WONT_DO,
  parseCustomFields,
  parseDecisions,
  type JiraConfig,
  type JiraInboundSettings,
} from '../jira/config';
import { JIRA_DEFAULT_PRIORITIES, parsePriorities } from '../priority';

/** How descriptions and comments are written: Jira's wiki markup (the default renderer) or plain text. */
export type JiraDcTextFormat = 'wiki' | 'plain';

/** Jira Data Center / Server: the Jira Cloud settings without Basic auth, a personal access token instead. */
export interface JiraDcConfig extends Omit<JiraConfig, 'email' | 'apiToken'> {
  /** A personal access token (Bearer), never a password. */
  token: string;
  textFormat: JiraDcTextFormat;
}

/**
 * The Jira Data Center settings that are not credentials: the variables a Lambda gets from the
 * deploy file's `ticketing.jira-dc` and the local hub from its environment.
 */
export const JiraDcSettingsSchema = z.object({
  JIRA_DC_BASE_URL: z.url({ protocol: /^https?$/ }),
  JIRA_DC_PROJECT_KEY: z.string().regex(/^[A-Z][A-Z0-9_]{0,9}$/, 'must be a Jira project key such as SEC'),
  JIRA_DC_ISSUE_TYPE: z.string().min(1).default('Task'),
  JIRA_DC_PRIORITIES: z.string().optional(),
  JIRA_DC_CLOSE_TRANSITION: z.string().min(1).optional(),
  JIRA_DC_REOPEN_TRANSITION: z.string().min(1).optional(),
  JIRA_DC_COMPONENTS: z.string().optional(),
  JIRA_DC_CUSTOM_FIELDS: z.string().optional(),
  /** A Data Center cluster replicates its index between nodes: a new issue may be missing from search a while. */
  JIRA_DC_SEARCH_LAG_SECONDS: z.coerce.number().min(0).max(3600).default(60),
  JIRA_DC_WONT_DO_RESOLUTIONS: z.string().default(JIRA_DEFAULT_WONT_DO),
  JIRA_DC_BULK_SIZE: z.coerce.number().int().min(1).max(50).default(50),
  JIRA_DC_TEXT_FORMAT: z.enum(['wiki', 'plain']).default('wiki'),
  /** Decisions taken in the issue (`Name=decision,…`), as JIRA_DECISIONS on Jira Cloud. */
  JIRA_DC_DECISIONS: z.string().default(JIRA_DEFAULT_DECISIONS),
  /** A select custom field whose value is the decision, as JIRA_DECISION_FIELD. */
  JIRA_DC_DECISION_FIELD: z
    .string()
    .regex(/^customfield_\d+$/, 'must be a custom field id such as customfield_10050')
    .optional(),
  /** The user name the personal access token belongs to: its own changes come back as webhooks. */
  JIRA_DC_USERNAME: z.string().min(1).optional(),
});

/** Jira Data Center credentials and where the deployed stack keeps each (a field of the TicketingSecret). */
export const JIRA_DC_CREDENTIALS = {
  JIRA_DC_TOKEN: 'jiraDcToken',
  JIRA_DC_WEBHOOK_SECRET: 'jiraDcWebhookSecret',
} as const;

const EnvSchema = JiraDcSettingsSchema.extend({ JIRA_DC_TOKEN: z.string().min(1) });

/** Whether the environment asks for Jira Data Center (JIRA_DC_BASE_URL set). */
export const jiraDcConfigured = (env: NodeJS.ProcessEnv) => Boolean(env.JIRA_DC_BASE_URL?.trim());

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** The won't-do resolutions alone (the webhook needs no connection settings). */
export const jiraDcWontDoResolutions = (env: NodeJS.ProcessEnv) =>
  list(env.JIRA_DC_WONT_DO_RESOLUTIONS?.trim() || JIRA_DEFAULT_WONT_DO);

/** The inbound settings alone, from the environment (the webhook needs no connection settings). */
export function jiraDcInboundSettings(env: NodeJS.ProcessEnv): JiraInboundSettings {
  const field = env.JIRA_DC_DECISION_FIELD?.trim();
  const user = env.JIRA_DC_USERNAME?.trim();
  return {
    wontDo: jiraDcWontDoResolutions(env),
    decisions: parseDecisions(env.JIRA_DC_DECISIONS?.trim() || JIRA_DEFAULT_DECISIONS, 'JIRA_DC_DECISIONS'),
    ...(field ? { decisionField: field } : {}),
    selfUsers: user ? [user] : [],
  };
}

/** Reads and checks the Jira Data Center settings; a problem names the variable. */
export function readJiraDcConfig(env: NodeJS.ProcessEnv, secrets: { token?: string } = {}): JiraDcConfig {
  const trimmed = Object.fromEntries(
    Object.entries(env)
      .filter(([k, v]) => k.startsWith('JIRA_DC_') && v?.trim())
      .map(([k, v]) => [k, v!.trim()]),
  );
  if (secrets.token) trimmed.JIRA_DC_TOKEN = secrets.token;
  const parsed = parseRecord(EnvSchema, trimmed);
  if (!parsed.ok) throw new ConfigurationError(`Jira Data Center configuration: ${parsed.problems.join('; ')}`);
  const e = parsed.value;
  let customFields: Record<string, unknown>;
  try {
    customFields = parseCustomFields(e.JIRA_DC_CUSTOM_FIELDS);
  } catch (err) {
    throw new ConfigurationError('JIRA_DC_CUSTOM_FIELDS must be a JSON object of customfield_<number> keys', {
      cause: err,
    });
  }
  return {
    baseUrl: e.JIRA_DC_BASE_URL.replace(/\/+$/, ''),
    token: e.JIRA_DC_TOKEN,
    projectKey: e.JIRA_DC_PROJECT_KEY,
    issueType: e.JIRA_DC_ISSUE_TYPE,
    priorities: parsePriorities(e.JIRA_DC_PRIORITIES, JIRA_DEFAULT_PRIORITIES, 'JIRA_DC_PRIORITIES'),
    ...(e.JIRA_DC_CLOSE_TRANSITION ? { closeTransition: e.JIRA_DC_CLOSE_TRANSITION } : {}),
    ...(e.JIRA_DC_REOPEN_TRANSITION ? { reopenTransition: e.JIRA_DC_REOPEN_TRANSITION } : {}),
    components: list(e.JIRA_DC_COMPONENTS),
    customFields,
    searchLagMs: e.JIRA_DC_SEARCH_LAG_SECONDS * 1000,
    wontDoResolutions: list(e.JIRA_DC_WONT_DO_RESOLUTIONS),
    bulkSize: e.JIRA_DC_BULK_SIZE,
    textFormat: e.JIRA_DC_TEXT_FORMAT,
    decisions: parseDecisions(e.JIRA_DC_DECISIONS, 'JIRA_DC_DECISIONS'),
    ...(e.JIRA_DC_DECISION_FIELD ? { decisionField: e.JIRA_DC_DECISION_FIELD } : {}),
    selfUsers: e.JIRA_DC_USERNAME ? [e.JIRA_DC_USERNAME] : [],
    showDecisions: Boolean(trimmed.JIRA_DC_DECISIONS || trimmed.JIRA_DC_DECISION_FIELD),
  };
}
