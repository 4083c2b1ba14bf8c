import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FindingIdSchema } from '../finding/identity';
import { SignalSchema } from '../lifecycle/state';

/** How a managed secret's new value is made and put in place (one rotator module each). */
export const RotatorKindSchema = z.enum(['iam_access_key', 'generated_credential']);
export type RotatorKind = z.infer<typeof RotatorKindSchema>;

/** The Secrets Manager tag naming a secret's rotator; only secrets tagged with it are managed. */
export const ROTATOR_TAG = 'closeloop:rotator';
/**
 * AWS's managed policy for exposed IAM user keys (the one AWS itself attaches): it denies the
 * actions a stolen key is used for first (launching instances, creating users and keys, changing
 * policies…), is reversible, and leaves running workloads their reads. `partition` is `aws`,
 * `aws-cn` or `aws-us-gov`.
 */
export const quarantinePolicyArn = (partition = 'aws') =>
  `arn:${partition}:iam::aws:policy/AWSCompromisedKeyQuarantineV3`;
/** The tag the rotation Lambda leaves on a secret naming the protocol step that failed. */
export const FAILED_STEP_TAG = 'closeloop:rotation-failed-step';

/** What the remediation of one finding does. */
export const RemediationPlanActionSchema = z.enum(['rotate_secret', 'contain_key', 'none', 'needs_approval']);

export const RemediationPlanSchema = z.object({
  action: RemediationPlanActionSchema,
  reason: z.string(),
  secretArn: z.string().optional(),
  secretName: z.string().optional(),
  rotator: RotatorKindSchema.optional(),
  userName: z.string().optional(),
  /** The leaked key (a short HMAC of its id, never the id): what containment acts on. */
  keyRef: z.string().optional(),
  /** A leaked IAM key that a managed secret holds: contained (policy `rotation.containment`) before it is rotated. */
  containFirst: z.boolean().optional(),
});
export type RemediationPlan = z.infer<typeof RemediationPlanSchema>;

/** What the lifecycle's Remediate state receives back. */
export const RemediationOutcomeSchema = z.object({
  remediation: z.enum(['done', 'failed', 'not_configured', 'needs_approval']),
  reason: z.string(),
  failedStep: z.string().optional(),
  simulated: z.boolean().optional(),
});
export type RemediationOutcome = z.infer<typeof RemediationOutcomeSchema>;

/**
 * The rotation execution's state (statemachines/secret-rotation.asl.json's `$`). It never
 * holds a secret or an access key id: keys are named by `keyRef`, a short HMAC.
 */
export const RotationStateSchema = z.object({
  /**
   * `remediate` (default): a finding's remediation, started by its lifecycle. `retire`: after a
   * scheduled rotation of an IAM-key secret, the rotated-out key's grace period, deactivation and
   * deletion (started by the rotation-events function; no finding, records on the secret).
   */
  mode: z.enum(['remediate', 'retire']).optional(),
  findingId: FindingIdSchema.optional(),
  generation: z.number().int().positive().optional(),
  /** The lifecycle's state when it started this remediation (read for an approval, then dropped). */
  lifecycle: z.object({ signal: SignalSchema.nullish() }).loose().optional(),
  /** The lifecycle's task token: the rotation resumes it with the outcome. */
  lifecycleTaskToken: z.string().optional(),
  approved: z.boolean().optional(),
  /** True when no AWS endpoint is configured: every call is recorded, none is made. */
  simulated: z.boolean().optional(),
  plan: RemediationPlanSchema.optional(),
  /** Secrets Manager's ClientRequestToken: the new version id, derived so retries join one rotation. */
  rotationToken: z.string().optional(),
  checks: z.number().int().nonnegative().optional(),
  maxChecks: z.number().int().positive().optional(),
  progress: z.enum(['pending', 'succeeded', 'failed', 'timed_out']).optional(),
  graceSeconds: z.number().int().nonnegative().optional(),
  deleteAfterSeconds: z.number().int().nonnegative().optional(),
  /** The old (rotated-out or leaked) key, by user and HMAC reference. */
  oldKey: z.object({ userName: z.string(), keyRef: z.string() }).optional(),
  /** How the leaked key was contained before its rotation: deactivated, or its user quarantined. */
  contained: z
    .object({ userName: z.string(), keyRef: z.string(), how: z.enum(['deactivated', 'quarantined']) })
    .optional(),
  replacementSecretArn: z.string().optional(),
  /** Every AWS call made (or, simulated, that would be made), in order. Names and refs only. */
  calls: z.array(z.string()).optional(),
  outcome: RemediationOutcomeSchema.optional(),
  failedStep: z.string().optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type RotationState = z.infer<typeof RotationStateSchema>;

export const ROTATION_STEP_NAMES = [
  'plan',
  'start_rotation',
  'check_rotation',
  'deactivate_old_key',
  'verify',
  'record_evidence',
  'delete_old_key',
  'contain_key',
  'contain_exposed_key',
  'record_failure',
] as const;
export type RotationStepName = (typeof ROTATION_STEP_NAMES)[number];

/**
 * Secrets Manager's ClientRequestToken for a finding's rotation: a UUID derived from the
 * finding, its generation and the lifecycle's task token, so a retried step or a second
 * execution for the same remediation joins the same rotation instead of starting another.
 */
export function rotationTokenFor(findingId: string, generation: number, lifecycleTaskToken = ''): string {
  const h = createHash('sha256').update(`${findingId}|${generation}|${lifecycleTaskToken}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}
