import { z } from 'zod';
import { ConfigurationError } from '../shared/errors';
import {
  EvidenceKindSchema,
  NhiTypeSchema,
  SEVERITIES,
  type EvidenceKind,
  type Finding,
  type Severity,
} from '../finding/model';
import { parseRecord } from '../shared/problems';
import { TicketRouteSchema } from '../tickets/routing';
import { DAY_MS } from '../shared/clock';
import { NotificationPolicySchema } from '../notify/model';
import { IdentityBindingSchema, IdentitySettingsSchema, roleTrustsSessionNames } from './identity';

/** Never more than a year of accepted risk, whatever a policy file says. */
export const ABSOLUTE_MAX_EXCEPTION_DAYS = 365;

/** Days per severity, each defaulted. */
function daysPerSeverity(max: number, defaults: Record<Severity, number>) {
  const days = () => z.number().int().positive().max(max);
  return z
    .object({
      critical: days().default(defaults.critical),
      high: days().default(defaults.high),
      medium: days().default(defaults.medium),
      low: days().default(defaults.low),
      info: days().default(defaults.info),
    })
    .default(defaults);
}

/** A role name per severity, each defaulted. */
function rolePerSeverity(defaults: Record<Severity, string>) {
  const role = () => z.string().min(1);
  return z
    .object({
      critical: role().default(defaults.critical),
      high: role().default(defaults.high),
      medium: role().default(defaults.medium),
      low: role().default(defaults.low),
      info: role().default(defaults.info),
    })
    .default(defaults);
}

/** Actions closeloop can take on a finding. */
export const RemediationActionSchema = z.enum(['rotate', 'deactivate_key']);

/**
 * The remediation policy: a JSON file validated here, every field defaulted. Defaults follow
 * common bank practice: critical findings fixed in 2 days, exceptions at most 90 days for
 * critical/high and 180 otherwise.
 */
export const PolicySchema = z
  .object({
    /** Days from triage to the due date, per severity. */
    slaDays: daysPerSeverity(3650, { critical: 2, high: 7, medium: 30, low: 90, info: 180 }),
    /** While overdue, escalate again every this many days. */
    escalationCadenceDays: z.number().int().positive().default(2),
    /** Who hears about escalations (SLA breach, unowned findings, approval timeouts). */
    escalationContact: z.string().min(1).default('identity-programme'),
    /** Resource tags that name an owner (IAM users and roles, Secrets Manager secrets), first found wins. */
    ownerTagKeys: z.array(z.string().min(1)).min(1).default(['owner', 'Owner', 'team', 'Team']),
    /** The identity programme's queue: owner of last resort, with an `owner.unresolved` escalation. */
    unownedQueue: z.string().min(1).default('identity-programme'),
    /** Configured ownership: the first mapping whose pattern matches the asset id wins (`*` wildcards). */
    ownerMappings: z.array(z.object({ asset: z.string().min(1), owner: z.string().min(1) })).default([]),
    /**
     * People and services, with their roles and the identities they are bound to (IAM user or role
     * ARNs, Identity Center users, IdP subjects, Jira and ServiceNow users): see `identity.ts`.
     */
    principals: z
      .array(
        z.object({
          name: z.string().min(1),
          roles: z.array(z.string().min(1)).min(1),
          identities: z.array(IdentityBindingSchema).optional(),
        }),
      )
      .default([]),
    /** Which session names are trusted, and the enterprise IdP behind the people's API. */
    identity: IdentitySettingsSchema,
    /** Inbound ticket webhooks: a signed delivery older than this is refused (a replay). */
    webhookMaxAgeMinutes: z
      .number()
      .int()
      .positive()
      .max(24 * 60)
      .default(60),
    /** The role an approver needs, per severity. */
    approverRoles: rolePerSeverity({
      critical: 'security-lead',
      high: 'approver',
      medium: 'approver',
      low: 'approver',
      info: 'approver',
    }),
    /** Hours an approval may wait before it escalates. */
    approvalTimeoutHours: z
      .number()
      .int()
      .positive()
      .max(24 * 30)
      .default(72),
    /** Actions closeloop may take without asking, per finding type and severity. */
    preAuthorized: z
      .array(
        z.object({
          action: RemediationActionSchema,
          nhiTypes: z.array(NhiTypeSchema).min(1),
          severities: z.array(z.enum(SEVERITIES)).min(1),
          onlyWhenActive: z.boolean().default(true),
        }),
      )
      .default([
        {
          action: 'rotate',
          nhiTypes: ['cloud_access_key', 'api_key', 'database_credential', 'password'],
          severities: ['critical', 'high'],
          onlyWhenActive: true,
        },
        // A verified leaked cloud key is exploited within minutes: it is contained at once, never after an approval.
        {
          action: 'deactivate_key',
          nhiTypes: ['cloud_access_key'],
          severities: ['critical', 'high'],
          onlyWhenActive: true,
        },
      ]),
    /** Longest risk acceptance, in days, per severity (capped at 365). */
    maxExceptionDays: daysPerSeverity(ABSOLUTE_MAX_EXCEPTION_DAYS, {
      critical: 90,
      high: 90,
      medium: 180,
      low: 180,
      info: 180,
    }),
    /** Evidence that closes a finding, per NHI type: any one listed kind suffices. */
    evidence: z.partialRecord(NhiTypeSchema, z.array(EvidenceKindSchema).min(1)).default({
      cloud_access_key: ['rotation_record', 'key_deactivated', 'secret_revoked_at_source'],
      private_key: ['rotation_record', 'ticket_resolution_note'],
    }),
    /** Evidence accepted for NHI types not listed in `evidence`. */
    defaultEvidence: z
      .array(EvidenceKindSchema)
      .min(1)
      .default(['rotation_record', 'clean_rescan', 'secret_revoked_at_source', 'ticket_resolution_note']),
    /**
     * Where tickets go, first match wins (by owner or asset pattern, severity): a Jira project or a
     * ServiceNow assignment group. Unmatched findings use Jira when configured, else ServiceNow,
     * else the local tracker.
     */
    ticketRouting: z.array(TicketRouteSchema).default([]),
    /**
     * Whether the outcome is written back to the scanner that reported a finding (GitHub alert
     * resolved or reopened, GitGuardian incident resolved with a note, Security Hub workflow status),
     * per source.
     */
    writeBack: z
      .object({
        github: z.boolean().default(true),
        gitguardian: z.boolean().default(true),
        securityhub: z.boolean().default(true),
      })
      .default({ github: true, gitguardian: true, securityhub: true }),
    /**
     * Who hears about what outside the ticket: Slack / Teams channels and email (SNS), each with
     * the notices and recipients it carries; digested, at most one message per channel per run.
     */
    notifications: NotificationPolicySchema,
    /** Automated rotation and credential hygiene. */
    rotation: z
      .object({
        /**
         * How a leaked IAM key that a managed secret holds is contained before its rotation:
         * `deactivate` it at once (consumers fail until they read the new value), or `quarantine` its
         * user with AWS's managed AWSCompromisedKeyQuarantineV3 policy (the high-risk actions a stolen
         * key is used for are denied, running workloads keep their reads) until the rotation has
         * replaced the key, then deactivate it and lift the quarantine. An unmanaged leaked key has no
         * rotation to wait for: it is always deactivated (and a replacement key stored).
         */
        containment: z.enum(['deactivate', 'quarantine']).default('deactivate'),
        /**
         * Hours the rotated-out IAM key stays active after a scheduled rotation, so running consumers
         * pick up the new one. Never for a leaked key: a finding's rotation deactivates it at once.
         */
        graceHours: z
          .number()
          .int()
          .nonnegative()
          .max(24 * 30)
          .default(24),
        /** Days after deactivation the old IAM key is deleted. */
        deleteAfterDays: z.number().int().nonnegative().max(365).default(7),
        /** Checks of a running rotation (every 15 s) before it counts as failed. */
        maxChecks: z.number().int().positive().max(400).default(40),
        /** A managed secret not rotated for this many days raises an NHI7 (long-lived secret) finding. */
        maxSecretAgeDays: z.number().int().positive().max(3650).default(90),
        /** An access key unused (or never used) for this many days raises an NHI1 (offboarding) finding. */
        unusedKeyDays: z.number().int().positive().max(3650).default(90),
        /** Rotation schedule of hub-managed secrets, in days (CDK rotation schedules). */
        scheduleDays: z.number().int().positive().max(365).default(30),
      })
      .default({
        containment: 'deactivate',
        graceHours: 24,
        deleteAfterDays: 7,
        maxChecks: 40,
        maxSecretAgeDays: 90,
        unusedKeyDays: 90,
        scheduleDays: 30,
      }),
    /** The audit trail's signed digests (core/audit/digest.ts). */
    audit: z
      .object({
        /** Minutes between digests: the digest writer's schedule, and how long a change stays unsealed at most. */
        digestIntervalMinutes: z
          .number()
          .int()
          .min(5)
          .max(24 * 60)
          .default(60),
        /**
         * Days each digest is locked (S3 Object Lock, compliance mode): nobody, the account's root
         * included, can delete or overwrite it sooner, nor shorten the lock.
         */
        digestRetentionDays: z.number().int().positive().max(36_500).default(365),
      })
      .default({ digestIntervalMinutes: 60, digestRetentionDays: 365 }),
  })
  .superRefine((policy, ctx) => {
    // A bound session name is only an identity where something other than the caller sets it.
    policy.principals.forEach((p, i) =>
      (p.identities ?? []).forEach((b, j) => {
        if (b.iamRole !== undefined && b.session !== undefined && !roleTrustsSessionNames(b.iamRole, policy.identity))
          ctx.addIssue({
            code: 'custom',
            path: ['principals', i, 'identities', j, 'session'],
            message: `the caller chooses the session names of ${b.iamRole}; bind the role without "session", or list it in identity.sessionPinningRoles once its trust policy pins them`,
          });
      }),
    );
  });
export type Policy = z.infer<typeof PolicySchema>;

/** The shipped defaults. */
export const DEFAULT_POLICY: Policy = PolicySchema.parse({});

/** Grants the approver roles of every severity to the named people (`CLOSELOOP_APPROVERS=a,b`). */
export function withApprovers(policy: Policy, names: string[]): Policy {
  const roles = [...new Set(Object.values(policy.approverRoles))];
  const principals = [...policy.principals];
  for (const name of names.map((n) => n.trim()).filter(Boolean)) {
    const existing = principals.find((p) => p.name === name);
    if (existing) existing.roles = [...new Set([...existing.roles, ...roles])];
    else principals.push({ name, roles });
  }
  return { ...policy, principals };
}

/** When a finding of this severity, triaged at `from`, is due. */
export function dueDateFor(severity: Severity, from: Date, policy: Policy): Date {
  return new Date(from.getTime() + policy.slaDays[severity] * DAY_MS);
}

/** The latest date an exception for this severity may run to, from `from`. */
export function latestExceptionEnd(severity: Severity, from: Date, policy: Policy): Date {
  return new Date(from.getTime() + Math.min(policy.maxExceptionDays[severity], ABSOLUTE_MAX_EXCEPTION_DAYS) * DAY_MS);
}

/** Whether the action may run without an approver for this finding. */
export function isPreAuthorized(
  action: z.infer<typeof RemediationActionSchema>,
  finding: Pick<Finding, 'nhiType' | 'severity' | 'validity'>,
  policy: Policy,
): boolean {
  return policy.preAuthorized.some(
    (rule) =>
      rule.action === action &&
      rule.nhiTypes.includes(finding.nhiType) &&
      rule.severities.includes(finding.severity) &&
      (!rule.onlyWhenActive || finding.validity === 'active'),
  );
}

/** The evidence kinds that close a finding of this type. */
export function evidenceRequired(nhiType: Finding['nhiType'], policy: Policy): EvidenceKind[] {
  return policy.evidence[nhiType] ?? policy.defaultEvidence;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

/**
 * May `approver` approve what `requester` asked for on this finding? Refuses self-approval,
 * an owner approving their own finding's exception, and anyone without the severity's role.
 */
export function mayApprove(
  input: {
    approver: string;
    requester: string;
    finding: Pick<Finding, 'id' | 'owner' | 'severity'>;
    kind: 'approval' | 'exception' | 'false_positive';
  },
  policy: Policy,
): Decision {
  const { approver, requester, finding, kind } = input;
  if (approver === requester)
    return {
      allowed: false,
      reason: `separation of duties: ${approver} requested this ${kind.replace('_', ' ')} and cannot approve it`,
    };
  if (kind !== 'approval' && finding.owner && approver === finding.owner) {
    return {
      allowed: false,
      reason: `separation of duties: ${approver} owns ${finding.id} and cannot approve its ${kind === 'exception' ? 'exception' : 'false-positive claim'}`,
    };
  }
  const role = policy.approverRoles[finding.severity];
  const principal = policy.principals.find((p) => p.name === approver);
  if (!principal || !principal.roles.includes(role)) {
    return {
      allowed: false,
      reason: `${approver} does not hold the ${role} role required to approve ${finding.severity} findings`,
    };
  }
  return { allowed: true };
}

/** A policy from parsed JSON; problems name the field (`policy.json: "slaDays.critical" must be …`). */
export function parsePolicy(json: unknown, source: string): Policy {
  const parsed = parseRecord(PolicySchema, json ?? {});
  if (!parsed.ok) throw new ConfigurationError(`${source}: ${parsed.problems.join('; ')}`);
  return parsed.value;
}
