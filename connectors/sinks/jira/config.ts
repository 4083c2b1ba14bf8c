import { z } from 'zod';
import { ConfigurationError } from '@core/shared/errors';
import { parseRecord } from '@core/shared/problems';
import type { PriorityScheme } from '@core/tickets/priority';
import { TicketDecisionSchema, type TicketDecision } from '@core/tickets/model';
import { JIRA_DEFAULT_PRIORITIES, parsePriorities } from '../priority';

/** Jira Cloud connection and behaviour, from the environment (secrets from Secrets Manager on AWS). */
export interface JiraConfig {
  baseUrl: string;
  email: string;
  apiToken: string;
  projectKey: string;
  issueType: string;
  priorities: PriorityScheme;
  /** Transition names to close / reopen; unset: the first transition into the done / to-do category. */
  closeTransition?: string;
  reopenTransition?: string;
  components: string[];
  /** Extra fields set on every issue, e.g. `{"customfield_10010": "NHI"}`. */
  customFields: Record<string, unknown>;
  /** How long Jira's search may miss a new issue; "not found" is trusted only after this. */
  searchLagMs: number;
  /** Resolutions that mean "we will not fix it": they become exception requests. */
  wontDoResolutions: string[];
  /** Issues created at once (bulk create takes at most 50). */
  bulkSize: number;
  /** Decisions taken in Jira: a status a transition leads to, a transition's name, or a decision field's value → the decision. */
  decisions: Record<string, TicketDecision>;
  /** A select custom field (`customfield_<n>`) whose values are decisions, instead of or beside transitions. */
  decisionField?: string;
  /** The hub's own Jira account (accountId or email; JIRA_EMAIL by default): its changes are the hub's own. */
  selfUsers: string[];
  /**
   * Whether tickets say how to decide in Jira: when the team configured its decisions
   * (JIRA_DECISIONS or JIRA_DECISION_FIELD). The default names are read either way, but a ticket
   * never points to transitions a workflow may not have.
   */
  showDecisions: boolean;
}

/** The decision names closeloop reads from Jira unless JIRA_DECISIONS says otherwise (`Name=decision,…`). */
export const JIRA_DEFAULT_DECISIONS =
  'Approve remediation=approve_remediation,Reject remediation=reject_remediation,Approve exception=approve_exception,Reject exception=reject_exception,Confirm false positive=approve_false_positive,Reject false positive=reject_false_positive,Claim false positive=claim_false_positive,Approve=approve,Reject=reject';

/** `Name=decision,…` → the decisions by name (matched without regard to case); a problem names the variable and the entry. */
export function parseDecisions(text: string, variable: string): Record<string, TicketDecision> {
  const out: Record<string, TicketDecision> = {};
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const name = entry.slice(0, at).trim();
    const decision = TicketDecisionSchema.safeParse(entry.slice(at + 1).trim());
    if (at <= 0 || !name || !decision.success)
      throw new ConfigurationError(
        `${variable}: "${entry.slice(0, 80)}" must be Name=decision with a decision among ${TicketDecisionSchema.options.join(', ')}`,
      );
    out[name] = decision.data;
  }
  return out;
}

/** How the webhook reads Jira: won't-do resolutions, decisions, and the hub's own changes (no connection settings needed). */
export interface JiraInboundSettings {
  wontDo: string[];
  decisions: Record<string, TicketDecision>;
  decisionField?: string;
  selfUsers: string[];
}

/** The inbound settings alone, from the environment. */
export function jiraInboundSettings(env: NodeJS.ProcessEnv): JiraInboundSettings {
  const field = env.JIRA_DECISION_FIELD?.trim();
  return {
    wontDo: jiraWontDoResolutions(env),
    decisions: parseDecisions(env.JIRA_DECISIONS?.trim() || JIRA_DEFAULT_DECISIONS, 'JIRA_DECISIONS'),
    ...(field ? { decisionField: field } : {}),
    selfUsers: [env.JIRA_ACCOUNT_ID, env.JIRA_EMAIL].map((u) => u?.trim()).filter((u): u is string => Boolean(u)),
  };
}

/** Resolutions that mean "we will not fix it" unless JIRA_WONT_DO_RESOLUTIONS says otherwise. */
export const JIRA_DEFAULT_WONT_DO = "Won't Do,Won't Fix,Declined";

/** The won't-do resolutions alone (the webhook needs no connection settings). */
export const jiraWontDoResolutions = (env: NodeJS.ProcessEnv) =>
  (env.JIRA_WONT_DO_RESOLUTIONS?.trim() || JIRA_DEFAULT_WONT_DO)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);

/**
 * The Jira settings that are not credentials: the variables a Lambda gets from the deploy file's
 * `ticketing.jira` and the local hub from its environment. Credentials (JIRA_CREDENTIALS) never
 * belong here: on AWS they are read from the TicketingSecret.
 */
export const JiraSettingsSchema = z.object({
  JIRA_BASE_URL: z.url({ protocol: /^https?$/ }),
  JIRA_EMAIL: z.string().min(3),
  JIRA_PROJECT_KEY: z.string().regex(/^[A-Z][A-Z0-9_]{0,9}$/, 'must be a Jira project key such as SEC'),
  JIRA_ISSUE_TYPE: z.string().min(1).default('Task'),
  JIRA_PRIORITIES: z.string().optional(),
  JIRA_CLOSE_TRANSITION: z.string().min(1).optional(),
  JIRA_REOPEN_TRANSITION: z.string().min(1).optional(),
  JIRA_COMPONENTS: z.string().optional(),
  JIRA_CUSTOM_FIELDS: z.string().optional(),
  JIRA_SEARCH_LAG_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  JIRA_WONT_DO_RESOLUTIONS: z.string().default(JIRA_DEFAULT_WONT_DO),
  JIRA_BULK_SIZE: z.coerce.number().int().min(1).max(50).default(50),
  JIRA_DECISIONS: z.string().default(JIRA_DEFAULT_DECISIONS),
  JIRA_DECISION_FIELD: z
    .string()
    .regex(/^customfield_\d+$/, 'must be a custom field id such as customfield_10050')
    .optional(),
  JIRA_ACCOUNT_ID: z.string().min(1).optional(),
});

/** Jira credentials and where the deployed stack keeps each (a field of the TicketingSecret). */
export const JIRA_CREDENTIALS = { JIRA_API_TOKEN: 'jiraApiToken', JIRA_WEBHOOK_SECRET: 'jiraWebhookSecret' } as const;

const EnvSchema = JiraSettingsSchema.extend({ JIRA_API_TOKEN: z.string().min(1) });

/** Whether the environment asks for Jira at all (JIRA_BASE_URL set). */
export const jiraConfigured = (env: NodeJS.ProcessEnv) => Boolean(env.JIRA_BASE_URL?.trim());

/** Reads and checks the Jira settings; a problem names the variable. */
export function readJiraConfig(env: NodeJS.ProcessEnv, secrets: { apiToken?: string } = {}): JiraConfig {
  const trimmed = Object.fromEntries(
    Object.entries(env)
      .filter(([k, v]) => k.startsWith('JIRA_') && v?.trim())
      .map(([k, v]) => [k, v!.trim()]),
  );
  if (secrets.apiToken) trimmed.JIRA_API_TOKEN = secrets.apiToken;
  const parsed = parseRecord(EnvSchema, trimmed);
  if (!parsed.ok) throw new ConfigurationError(`Jira configuration: ${parsed.problems.join('; ')}`);
  const e = parsed.value;
  return {
    baseUrl: e.JIRA_BASE_URL.replace(/\/+$/, ''),
    email: e.JIRA_EMAIL,
    apiToken: e.JIRA_API_TOKEN,
    projectKey: e.JIRA_PROJECT_KEY,
    issueType: e.JIRA_ISSUE_TYPE,
    priorities: parsePriorities(e.JIRA_PRIORITIES, JIRA_DEFAULT_PRIORITIES, 'JIRA_PRIORITIES'),
    ...(e.JIRA_CLOSE_TRANSITION ? { closeTransition: e.JIRA_CLOSE_TRANSITION } : {}),
    ...(e.JIRA_REOPEN_TRANSITION ? { reopenTransition: e.JIRA_REOPEN_TRANSITION } : {}),
    components: (e.JIRA_COMPONENTS ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    customFields: parseCustomFields(e.JIRA_CUSTOM_FIELDS),
    searchLagMs: e.JIRA_SEARCH_LAG_SECONDS * 1000,
    wontDoResolutions: e.JIRA_WONT_DO_RESOLUTIONS.split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    bulkSize: e.JIRA_BULK_SIZE,
    decisions: parseDecisions(e.JIRA_DECISIONS, 'JIRA_DECISIONS'),
    ...(e.JIRA_DECISION_FIELD ? { decisionField: e.JIRA_DECISION_FIELD } : {}),
    selfUsers: [e.JIRA_ACCOUNT_ID, e.JIRA_EMAIL].filter((u): u is string => Boolean(u)),
    showDecisions: Boolean(trimmed.JIRA_DECISIONS || trimmed.JIRA_DECISION_FIELD),
  };
}

/** JIRA_CUSTOM_FIELDS: a JSON object of `customfield_<number>` keys. */
export function parseCustomFields(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    return z.record(z.string().regex(/^customfield_\d+$/), z.unknown()).parse(JSON.parse(text));
  } catch (err) {
    throw new ConfigurationError('JIRA_CUSTOM_FIELDS must be a JSON object of customfield_<number> keys', {
      cause: err,
    });
  }
}
