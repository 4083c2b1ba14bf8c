import { createHash } from 'node:crypto';
import { CloseloopError } from '../shared/errors';
import { canonical, hashEvent, type AuditEvent } from './chain';

/**
 * The fields of a finding that record what was decided and why it matters: where it stands, who
 * owns it and by when, what was accepted or proved, its ticket, and the classification its
 * deadline and evidence policy follow. Every change of one of them comes with an audit event.
 */
export const FINDING_BOUND_FIELDS = [
  'status',
  'owner',
  'ownerVia',
  'dueAt',
  'generation',
  'exception',
  'expiredException',
  'evidence',
  'closedAt',
  'ticket',
  'severity',
  'validity',
  'nhiType',
  'asset',
  'publiclyExposed',
] as const;

/** A managed secret's record: its rotations and failures, as the rotation report counts them. */
export const MANAGED_SECRET_BOUND_FIELDS = [
  'rotator',
  'lastRotatedAt',
  'lastOutcome',
  'lastFailureAt',
  'rotations',
  'failures',
] as const;

/** SHA-256 over the canonical JSON of the named fields of `record` (absent ones left out). */
export function stateHashOf(record: object, fields: readonly string[]): string {
  const picked = Object.fromEntries(fields.map((f) => [f, (record as Record<string, unknown>)[f]]));
  return createHash('sha256').update(canonical(picked)).digest('hex');
}

/** A write would change bound fields without an event: the very change `audit verify` reports as tampering. */
export class UnrecordedStateChangeError extends CloseloopError {
  constructor(
    readonly chainId: string,
    options?: ErrorOptions,
  ) {
    super(`${chainId}: a write changes decision fields without an audit event; refused`, options);
    this.name = 'UnrecordedStateChangeError';
  }
}

/**
 * Binds a record's decision fields to its chain: the last event of the write carries their hash
 * (and is hashed again with it), so the chain head covers the state. A write without events must
 * leave the bound fields as they were (`previous`, the hash the record carried when read).
 * Returns the events to store and the new head.
 */
export function bindState(
  chainId: string,
  stateHash: string,
  events: AuditEvent[],
  previous: string | undefined,
): { events: AuditEvent[]; lastHash?: string } {
  const last = events[events.length - 1];
  if (!last) {
    if (previous !== undefined && previous !== stateHash) throw new UnrecordedStateChangeError(chainId);
    return { events };
  }
  const { hash: _unbound, ...unhashed } = last;
  const bound = { ...unhashed, stateHash };
  const hash = hashEvent(bound);
  return { events: [...events.slice(0, -1), { ...bound, hash }], lastHash: hash };
}
