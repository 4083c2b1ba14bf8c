import { z } from 'zod';
import { ConfigurationError } from '@core/shared/errors';
import { parseRecord } from '@core/shared/problems';
import { TicketDecisionSchema, type TicketDecision } from '@core/tickets/model';

/** ServiceNow connection: Table API for tasks, IdentifyReconcile for the CMDB. */
export interface ServiceNowConfig {
  url: string;
  /** Basic auth, or an OAuth bearer token (SERVICENOW_TOKEN) instead. */
  user?: string;
  password?: string;
  token?: string;
  table: string;
  /** `state` values: closing, reopening; and which inbound states mean done / won't do / open. */
  closeState: string;
  reopenState: string;
  doneStates: string[];
  wontDoStates: string[];
  openStates: string[];
  /** CMDB class of an NHI CI, and the attribute that identifies it (set to the finding id). */
  cmdbClass: string;
  cmdbIdAttribute: string;
  /** CMDB class of the application an asset belongs to (found by `name` = asset id). */
  cmdbAppClass: string;
  /** Task states that are decisions (`state value → decision`), e.g. a custom "Exception approved" state. */
  decisionStates: Record<string, TicketDecision>;
  /** Ask the approvers bound to ServiceNow users through approval records (`sysapproval_approver`) on the task. */
  approvalRecords: boolean;
}

/** `state=decision,…` (SERVICENOW_DECISION_STATES) → decisions by state value. */
export function parseDecisionStates(text: string | undefined): Record<string, TicketDecision> {
  const out: Record<string, TicketDecision> = {};
  for (const entry of list(text ?? '')) {
    const [state, value] = entry.split('=').map((x) => x.trim());
    const decision = TicketDecisionSchema.safeParse(value);
    if (!state || !decision.success)
      throw new ConfigurationError(
        `SERVICENOW_DECISION_STATES: "${entry.slice(0, 80)}" must be state=decision with a decision among ${TicketDecisionSchema.options.join(', ')}`,
      );
    out[state] = decision.data;
  }
  return out;
}

/** How the webhook reads ServiceNow: state meanings, decisions, and the hub's own user (no connection settings needed). */
export type ServiceNowInboundSettings = Pick<
  ServiceNowConfig,
  'doneStates' | 'wontDoStates' | 'openStates' | 'decisionStates'
> & { selfUsers: string[] };

export const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Inbound state meanings of a task table (`task`: 3 Closed Complete, 4 Closed Incomplete, 7 Closed Skipped …). */
export const SERVICENOW_DEFAULT_STATES = { done: '3,6,7', wontDo: '4,8', open: '1,2,-5' } as const;

/** The inbound state settings alone (the webhook needs no connection settings). */
export function servicenowInboundStates(env: NodeJS.ProcessEnv): ServiceNowInboundSettings {
  return {
    doneStates: list(env.SERVICENOW_DONE_STATES?.trim() || SERVICENOW_DEFAULT_STATES.done),
    wontDoStates: list(env.SERVICENOW_WONT_DO_STATES?.trim() || SERVICENOW_DEFAULT_STATES.wontDo),
    openStates: list(env.SERVICENOW_OPEN_STATES?.trim() || SERVICENOW_DEFAULT_STATES.open),
    decisionStates: parseDecisionStates(env.SERVICENOW_DECISION_STATES),
    selfUsers: env.SERVICENOW_USER?.trim() ? [env.SERVICENOW_USER.trim()] : [],
  };
}

/**
 * The ServiceNow settings that are not credentials: the variables a Lambda gets from the deploy
 * file's `ticketing.servicenow` and the local hub from its environment. Credentials
 * (SERVICENOW_CREDENTIALS) never belong here: on AWS they are read from the TicketingSecret.
 */
export const ServiceNowSettingsSchema = z.object({
  SERVICENOW_URL: z.url({ protocol: /^https?$/ }),
  SERVICENOW_USER: z.string().min(1).optional(),
  SERVICENOW_TABLE: z
    .string()
    .regex(/^[a-z0-9_]+$/, 'must be a table name such as sn_si_task or task')
    .default('task'),
  SERVICENOW_CLOSE_STATE: z.string().default('3'),
  SERVICENOW_REOPEN_STATE: z.string().default('1'),
  SERVICENOW_DONE_STATES: z.string().default(SERVICENOW_DEFAULT_STATES.done),
  SERVICENOW_WONT_DO_STATES: z.string().default(SERVICENOW_DEFAULT_STATES.wontDo),
  SERVICENOW_OPEN_STATES: z.string().default(SERVICENOW_DEFAULT_STATES.open),
  SERVICENOW_CMDB_CLASS: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default('cmdb_ci_service_account'),
  SERVICENOW_CMDB_ID_ATTRIBUTE: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default('correlation_id'),
  SERVICENOW_CMDB_APP_CLASS: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default('cmdb_ci_appl'),
  SERVICENOW_DECISION_STATES: z.string().optional(),
  SERVICENOW_APPROVAL_RECORDS: z.enum(['true', 'false']).default('false'),
});

/** ServiceNow credentials and where the deployed stack keeps each (a field of the TicketingSecret). */
export const SERVICENOW_CREDENTIALS = {
  SERVICENOW_PASSWORD: 'servicenowPassword',
  SERVICENOW_TOKEN: 'servicenowToken',
  SERVICENOW_WEBHOOK_SECRET: 'servicenowWebhookSecret',
} as const;

const EnvSchema = ServiceNowSettingsSchema.extend({
  SERVICENOW_PASSWORD: z.string().min(1).optional(),
  SERVICENOW_TOKEN: z.string().min(1).optional(),
});

export const servicenowConfigured = (env: NodeJS.ProcessEnv) => Boolean(env.SERVICENOW_URL?.trim());

/** Reads and checks the ServiceNow settings; a problem names the variable. */
export function readServiceNowConfig(
  env: NodeJS.ProcessEnv,
  secrets: { password?: string; token?: string } = {},
): ServiceNowConfig {
  const trimmed: Record<string, string> = Object.fromEntries(
    Object.entries(env)
      .filter(([k, v]) => k.startsWith('SERVICENOW_') && v?.trim())
      .map(([k, v]) => [k, v!.trim()]),
  );
  if (secrets.password) trimmed.SERVICENOW_PASSWORD = secrets.password;
  if (secrets.token) trimmed.SERVICENOW_TOKEN = secrets.token;
  const parsed = parseRecord(EnvSchema, trimmed);
  if (!parsed.ok) throw new ConfigurationError(`ServiceNow configuration: ${parsed.problems.join('; ')}`);
  const e = parsed.value;
  if (!e.SERVICENOW_TOKEN && !(e.SERVICENOW_USER && e.SERVICENOW_PASSWORD)) {
    throw new ConfigurationError(
      'ServiceNow configuration: set SERVICENOW_USER and SERVICENOW_PASSWORD (Basic auth) or SERVICENOW_TOKEN (OAuth)',
    );
  }
  return {
    url: e.SERVICENOW_URL.replace(/\/+$/, ''),
    ...(e.SERVICENOW_USER ? { user: e.SERVICENOW_USER } : {}),
    ...(e.SERVICENOW_PASSWORD ? { password: e.SERVICENOW_PASSWORD } : {}),
    ...(e.SERVICENOW_TOKEN ? { token: e.SERVICENOW_TOKEN } : {}),
    table: e.SERVICENOW_TABLE,
    closeState: e.SERVICENOW_CLOSE_STATE,
    reopenState: e.SERVICENOW_REOPEN_STATE,
    doneStates: list(e.SERVICENOW_DONE_STATES),
    wontDoStates: list(e.SERVICENOW_WONT_DO_STATES),
    openStates: list(e.SERVICENOW_OPEN_STATES),
    cmdbClass: e.SERVICENOW_CMDB_CLASS,
    cmdbIdAttribute: e.SERVICENOW_CMDB_ID_ATTRIBUTE,
    cmdbAppClass: e.SERVICENOW_CMDB_APP_CLASS,
    decisionStates: parseDecisionStates(e.SERVICENOW_DECISION_STATES),
    approvalRecords: e.SERVICENOW_APPROVAL_RECORDS === 'true',
  };
}
