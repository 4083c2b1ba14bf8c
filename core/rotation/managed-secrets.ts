import { z } from 'zod';
import type { AuditEvent, AuditEventDraft } from '../audit/chain';
import { RotatorKindSchema } from './model';

/**
 * What closeloop knows about one managed secret's rotations: scheduled rotations (recorded
 * from Secrets Manager's RotationSucceeded/Failed/Abandoned events) and the retirement of
 * rotated-out keys. Its history is an append-only, hash-chained event list like a finding's.
 */
export const ManagedSecretRecordSchema = z.object({
  secretArn: z.string().min(1),
  name: z.string().min(1),
  rotator: RotatorKindSchema.optional(),
  lastRotatedAt: z.string().optional(),
  lastOutcome: z.enum(['succeeded', 'failed', 'abandoned']).optional(),
  lastFailureAt: z.string().optional(),
  rotations: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  eventCount: z.number().int().nonnegative(),
  lastEventHash: z.string(),
  updatedAt: z.string(),
});
export type ManagedSecretRecord = z.infer<typeof ManagedSecretRecordSchema>;

export interface ManagedSecretEventInput {
  secretArn: string;
  name: string;
  rotator?: z.infer<typeof RotatorKindSchema>;
  /** A rotation's outcome, or undefined for other events (a key retired). */
  outcome?: 'succeeded' | 'failed' | 'abandoned';
  /** Unique per delivery (CloudTrail eventID, execution + step): a redelivery records nothing. */
  deliveryId: string;
  event: Omit<AuditEventDraft, 'at'>;
}

/** Where managed-secret records live (the one table, `MANAGED_SECRET#<arn>`). */
export interface ManagedSecretStore {
  /** Appends the event (once per deliveryId) and updates the record; returns false for a redelivery. */
  record(input: ManagedSecretEventInput, at: string): Promise<boolean>;
  get(secretArn: string): Promise<ManagedSecretRecord | undefined>;
  /** Every managed secret, least recently rotated first (one Query on byStatus). */
  list(): Promise<ManagedSecretRecord[]>;
  events(secretArn: string): Promise<AuditEvent[]>;
}
