import { z } from 'zod';
import { FindingIdSchema } from './identity';

/** Severity, most severe first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/** Whether the credential still works, as far as any scanner could tell. */
export const ValiditySchema = z.enum(['active', 'inactive', 'unknown']);
export type Validity = z.infer<typeof ValiditySchema>;

/** The kind of non-human identity or credential a finding is about. */
export const NhiTypeSchema = z.enum([
  'api_key',
  'cloud_access_key',
  'oauth_token',
  'service_account',
  'certificate',
  'password',
  'private_key',
  'webhook_url',
  'database_credential',
  'generic_secret',
]);
export type NhiType = z.infer<typeof NhiTypeSchema>;

export const FINDING_STATUSES = [
  'open',
  'awaiting_approval',
  'remediating',
  'verifying',
  'resolved',
  'risk_accepted',
  'false_positive',
  'reopened',
] as const;
export const FindingStatusSchema = z.enum(FINDING_STATUSES);
export type FindingStatus = z.infer<typeof FindingStatusSchema>;

/** Statuses under which a finding is someone's open work. */
export const OPEN_STATUSES = [
  'open',
  'awaiting_approval',
  'remediating',
  'verifying',
  'reopened',
] as const satisfies readonly FindingStatus[];
/** Statuses of a closed finding: resolved, or closed as a false positive. */
export const CLOSED_STATUSES = ['resolved', 'false_positive'] as const satisfies readonly FindingStatus[];

const OPEN: ReadonlySet<FindingStatus> = new Set(OPEN_STATUSES);
const CLOSED: ReadonlySet<FindingStatus> = new Set(CLOSED_STATUSES);
/** Whether a finding with this status is someone's open work. */
export const isOpenWork = (status: FindingStatus) => OPEN.has(status);
/** Whether a finding with this status is closed. */
export const isClosed = (status: FindingStatus) => CLOSED.has(status);

/** OWASP Non-Human Identities Top 10 (2025) ids. */
export const OwaspNhiSchema = z.enum(['NHI1', 'NHI2', 'NHI3', 'NHI4', 'NHI5', 'NHI6', 'NHI7', 'NHI8', 'NHI9', 'NHI10']);
export type OwaspNhi = z.infer<typeof OwaspNhiSchema>;

/** NIST CSF 2.0 subcategory id, e.g. `ID.RA-01`, `PR.AA-01`. */
export const NistCsfSchema = z.string().regex(/^(GV|ID|PR|DE|RS|RC)\.[A-Z]{2}-\d{2}$/);

/**
 * What the exposure is attached to: the thing an owner is responsible for. `container_image`
 * is an image reference, `kubernetes_workload` a `cluster/namespace/kind/name`, `cloud_resource`
 * an Azure, GCP or Kubernetes resource id.
 */
export const AssetSchema = z.object({
  type: z.enum([
    'repository',
    'aws_account',
    'aws_resource',
    'workspace',
    'container_image',
    'kubernetes_workload',
    'cloud_resource',
    'unspecified',
  ]),
  id: z.string().min(1),
  /** AWS account of an aws_resource (or the subscription, project or cluster of a cloud_resource), when known. */
  account: z.string().optional(),
});
export type Asset = z.infer<typeof AssetSchema>;

/** One place the exposure was seen. Never contains the secret or the line around it. */
export const LocationSchema = z.object({
  kind: z.enum(['file', 'commit', 'resource', 'url']),
  repository: z.string().optional(),
  path: z.string().optional(),
  line: z.number().int().nonnegative().optional(),
  commit: z.string().optional(),
  url: z.string().optional(),
  resource: z.string().optional(),
});
export type Location = z.infer<typeof LocationSchema>;

/**
 * Where a scanner keeps its own record of what it reported, so the hub can tell it the outcome
 * (write-back): a GitHub secret scanning alert, a GitGuardian incident, a Security Hub CSPM finding
 * (ASFF: product ARN and id) or a finding of the new Security Hub (OCSF: the three uids of
 * BatchUpdateFindingsV2's identifier).
 */
export const SourceRefSchema = z.discriminatedUnion('system', [
  z.object({ system: z.literal('github'), repository: z.string().min(1), alert: z.number().int().positive() }),
  z.object({ system: z.literal('gitguardian'), incident: z.number().int().positive() }),
  z.object({ system: z.literal('securityhub'), productArn: z.string().min(1), id: z.string().min(1) }),
  z.object({
    system: z.literal('securityhub_v2'),
    productUid: z.string().min(1),
    accountUid: z.string().min(1),
    findingUid: z.string().min(1),
  }),
]);
export type SourceRef = z.infer<typeof SourceRefSchema>;

/** One scanner's report of the finding: which scanner, under which of its own ids. */
export const SourceSchema = z.object({
  scanner: z.string().min(1),
  /** The scanner's own id for what it reported (alert number, incident id, fingerprint). */
  scannerId: z.string().min(1),
  ruleId: z.string().min(1),
  firstReportedAt: z.string(),
  /** The state the scanner itself gives (e.g. GitHub alert `resolved`); informational. */
  state: z.enum(['open', 'resolved']).default('open'),
  url: z.string().optional(),
  /** The scanner's record, when closeloop can write the outcome back to it. */
  ref: SourceRefSchema.optional(),
});
export type Source = z.infer<typeof SourceSchema>;

/** Why the lifecycle is waiting and when `tick` must fire its timer. */
export const TimerKindSchema = z.enum(['approval_timeout', 'sla_breach', 'exception_expiry']);
export type TimerKind = z.infer<typeof TimerKindSchema>;

/**
 * The states of statemachines/finding-lifecycle.asl.json a lifecycle waits in: the three token
 * waits and the exception's Wait. A test checks that each is a state of the definition.
 */
export const WAIT_STATES = ['AwaitApproval', 'AwaitOwnerFix', 'AwaitExceptionApproval', 'ExceptionWait'] as const;
export const WaitStateSchema = z.enum(WAIT_STATES);
export type WaitState = z.infer<typeof WaitStateSchema>;

/** Where a finding's lifecycle stands (the execution may be parked locally or waiting in Step Functions). */
export const LifecycleSchema = z.object({
  /** The generation whose lifecycle was started (idempotent start: one execution per generation). */
  startedGeneration: z.number().int().positive(),
  /** The generation whose triage (owner, due date) is done: a recovered lifecycle skips it. */
  triagedGeneration: z.number().int().positive().optional(),
  /** Wall-clock time a local hub claimed the start (or a recovery): a run that never parked is found by it. */
  claimedAt: z.string().optional(),
  /** The wait state the lifecycle is parked at, if any. */
  waitingAt: WaitStateSchema.optional(),
  /** Step Functions task token of the current wait (AWS only; never shown). */
  taskToken: z.string().optional(),
  /** The lifecycle's next timer: the earliest of its SLA escalation, approval escalation and exception end (core/lifecycle/timers.ts). */
  timerAt: z.string().optional(),
  timerKind: TimerKindSchema.optional(),
  /** Set on each SLA escalation while overdue (the first is `sla.breached`). */
  lastEscalatedAt: z.string().optional(),
  /** When the decision an approver is asked for (a remediation, an exception) escalates next. */
  approvalDueAt: z.string().optional(),
});
export type Lifecycle = z.infer<typeof LifecycleSchema>;

/** Kinds of evidence that can prove a control works again. */
export const EVIDENCE_KINDS = [
  'rotation_record',
  'key_deactivated',
  'clean_rescan',
  'ticket_resolution_note',
  'secret_revoked_at_source',
] as const;
export const EvidenceKindSchema = z.enum(EVIDENCE_KINDS);
export type EvidenceKind = z.infer<typeof EvidenceKindSchema>;

/** A piece of evidence that the control works again. */
export const EvidenceSchema = z.object({
  kind: EvidenceKindSchema,
  ref: z.string().min(1),
  at: z.string(),
  recordedBy: z.string().min(1),
  /** A dry run's record: never accepted as closing evidence. */
  simulated: z.boolean().default(false),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

/** A risk acceptance: requested by the owner, approved by someone else, ends on `until`. */
export const RiskExceptionSchema = z.object({
  requestedBy: z.string().min(1),
  requestedAt: z.string(),
  until: z.string(),
  reason: z.string().min(1),
  compensatingControl: z.string().optional(),
  approvedBy: z.string().optional(),
  approvedAt: z.string().optional(),
});
export type RiskException = z.infer<typeof RiskExceptionSchema>;

/** The system-of-record shape of a finding. */
export const FindingSchema = z.object({
  id: FindingIdSchema,
  fingerprint: z.string().min(1),
  title: z.string().min(1).max(300),
  nhiType: NhiTypeSchema,
  detector: z.string().min(1),
  severity: SeveritySchema,
  validity: ValiditySchema,
  /** True when any scanner saw the exposure somewhere public. */
  publiclyExposed: z.boolean(),
  asset: AssetSchema,
  locations: z.array(LocationSchema),
  /** Locations beyond the stored cap (see MAX_LOCATIONS) are counted, not listed. */
  locationsNotListed: z.number().int().nonnegative(),
  sources: z.array(SourceSchema).min(1),
  owaspNhi: z.array(OwaspNhiSchema).min(1),
  nistCsf: z.array(NistCsfSchema).min(1),
  /** HMAC-SHA256 of the secret under the deployment key; absent when no scanner gave the secret. */
  secretHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** At most four leading characters of the secret and its length, e.g. `AKIA…(20)`. */
  secretPreview: z.string().max(16).optional(),
  owner: z.string().optional(),
  /** How the owner was found: CMDB, resource tag, configured mapping, or the unowned queue. */
  ownerVia: z.enum(['cmdb', 'tags', 'mapping', 'unowned_queue']).optional(),
  /** Set by triage when the resource's owner tag could not be read (and why): the owner chain went on without it. */
  ownerTagProblem: z.string().optional(),
  dueAt: z.string().optional(),
  /** When the finding was last reopened: the SLA clock of a reopened finding starts here, not at `firstSeen`. */
  reopenedAt: z.string().optional(),
  /** Bumped when a finding is reopened; each generation gets one lifecycle execution. */
  generation: z.number().int().positive().default(1),
  lifecycle: LifecycleSchema.optional(),
  evidence: z.array(EvidenceSchema).default([]),
  exception: RiskExceptionSchema.optional(),
  /** Someone says the finding is a false positive; an approver other than them and the owner decides. */
  falsePositiveClaim: z
    .object({ claimedBy: z.string().min(1), claimedAt: z.string(), reason: z.string().min(1) })
    .optional(),
  /** When the finding was last closed (resolved or false positive): MTTR and SLA reports. */
  closedAt: z.string().optional(),
  /** The last exception that expired and reopened the finding (the exceptions report). */
  expiredException: RiskExceptionSchema.extend({ expiredAt: z.string() }).optional(),
  /** The finding's ticket, once the sync created it. */
  ticket: z
    .object({
      system: z.enum(['local', 'jira', 'jira-dc', 'servicenow']),
      key: z.string().min(1),
      url: z.string().optional(),
    })
    .optional(),
  status: FindingStatusSchema,
  firstSeen: z.string(),
  lastSeen: z.string(),
  /** Bumped on every write; guards against lost updates. */
  version: z.number().int().positive(),
  /** Number of audit events so far and the hash of the last one (the chain head). */
  eventCount: z.number().int().nonnegative(),
  lastEventHash: z.string(),
  /** The hash of the decision fields the latest event bound (core/finding/write.ts); absent before the first. */
  stateHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type Finding = z.infer<typeof FindingSchema>;

/** Cap on locations stored inline on a finding; more are counted in `locationsNotListed`. */
export const MAX_LOCATIONS = 200;

/**
 * What a source connector produces for one scanner record: the secret already reduced to
 * its HMAC and preview. The ingest service merges observations into findings.
 */
export interface Observation {
  fingerprint: string;
  secretHash?: string;
  secretPreview?: string;
  title: string;
  nhiType: NhiType;
  detector: string;
  severity: Severity;
  validity: Validity;
  publiclyExposed: boolean;
  asset: Asset;
  locations: Location[];
  source: Source;
  owaspNhi: OwaspNhi[];
  nistCsf: string[];
  /**
   * A durable external id (e.g. `github:owner/repo#12`) under which later reports that carry
   * no secret (webhooks) find this finding again.
   */
  aliasKey?: string;
}
