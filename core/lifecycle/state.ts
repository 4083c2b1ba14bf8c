import { z } from 'zod';
import { FindingIdSchema } from '../finding/identity';

/** Where a lifecycle execution (re-)enters: the first Choice of the definition routes on it. */
export const ResumeAtSchema = z.enum([
  'triage',
  'decide',
  'approval_decided',
  'owner_fix',
  'owner_signal',
  'exception_decided',
  'exception_wait',
  'exception_expired',
  'verify',
]);
export type ResumeAt = z.infer<typeof ResumeAtSchema>;

/**
 * What a wait is resumed with: a decision (approval, exception) or an owner signal. A decision
 * taken while a remediation approval waits names its `subject`: the approver may decide the
 * remediation or an exception the owner asked for meanwhile (`exceptionPending`).
 */
export const SignalSchema = z.object({
  decision: z.enum(['approved', 'rejected']).optional(),
  subject: z.enum(['remediation', 'exception']).optional(),
  /** A remediation decision taken while an exception request also waits for its decision. */
  exceptionPending: z.boolean().optional(),
  kind: z.enum(['fixed', 'exception_requested', 'false_positive_approved']).optional(),
  by: z.string().optional(),
  /** The full identity of `by` (see DecisionActor), for the audit event the resumed step writes. */
  identity: z.string().optional(),
  reason: z.string().optional(),
});
export type Signal = z.infer<typeof SignalSchema>;

/** The execution's state, passed from step to step (the ASL's `$`). Small: the finding lives in DynamoDB. */
export const LifecycleStateSchema = z.object({
  findingId: FindingIdSchema,
  generation: z.number().int().positive(),
  resumeAt: ResumeAtSchema,
  /** Decide's route: plan a remediation (the rotation machine), or straight to the owner. */
  route: z.enum(['auto_remediate', 'owner_fix']).optional(),
  /** The rotation machine's outcome (or, when its execution was lost, the Step Functions error). */
  rotation: z
    .object({
      remediation: z.enum(['done', 'failed', 'not_configured', 'needs_approval']),
      reason: z.string(),
      failedStep: z.string().optional(),
      simulated: z.boolean().optional(),
    })
    .partial()
    .extend({ Error: z.string().optional(), Cause: z.string().optional() })
    .optional(),
  verified: z.boolean().optional(),
  exposed: z.boolean().optional(),
  expiresAt: z.string().optional(),
  continueAsNew: z.boolean().optional(),
  nextExecutionName: z.string().optional(),
  signal: SignalSchema.nullish(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type LifecycleState = z.infer<typeof LifecycleStateSchema>;

/** Step Functions' name limit is 80 characters of [A-Za-z0-9-_]; this stays well inside it. */
export function executionName(findingId: string, generation: number, part = 0): string {
  return `${findingId}-g${generation}${part > 0 ? `-c${part}` : ''}`;
}
