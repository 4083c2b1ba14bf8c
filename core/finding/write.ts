import type { AuditEvent } from '../audit/chain';
import { noticesFor } from '../notify/notices';
import { FINDING_BOUND_FIELDS, bindState, stateHashOf } from '../audit/state';
import { ticketWorkFor } from '../tickets/outbox';
import { writebackWorkFor } from '../writeback/outbox';
import { expiredExceptionsOf } from './history';
import { FindingSchema, type Finding } from './model';
import type { FindingWrite } from './ports';

/** The bound fields as the stored item reads back (defaults applied), so write and verify hash the same. */
const BoundFieldsSchema = FindingSchema.pick(
  Object.fromEntries(FINDING_BOUND_FIELDS.map((field) => [field, true])) as Record<
    (typeof FINDING_BOUND_FIELDS)[number],
    true
  >,
);

/** The hash of a finding's decision fields (FINDING_BOUND_FIELDS). */
export const findingStateHash = (finding: Finding) =>
  stateHashOf(BoundFieldsSchema.parse(finding), FINDING_BOUND_FIELDS);

/**
 * A finding write with everything it owes besides its events: the binding of its decision fields
 * to its chain head (the last event carries their hash), the ticket work and the scanner
 * write-backs the events cause (the transactional outboxes), the notices they give people, and
 * the history items of an expiring exception. Every finding write is built here; the store only
 * persists what this says.
 */
export function findingWrite(parts: {
  finding: FindingWrite['finding'];
  expectedVersion: number | null;
  events: AuditEvent[];
  aliases?: string[];
}): FindingWrite {
  const stateHash = findingStateHash(parts.finding);
  const bound = bindState(`finding ${parts.finding.id}`, stateHash, parts.events, parts.finding.stateHash);
  const finding: Finding = bound.lastHash
    ? { ...parts.finding, lastEventHash: bound.lastHash, stateHash }
    : parts.finding;
  return {
    finding,
    expectedVersion: parts.expectedVersion,
    events: bound.events,
    aliases: parts.aliases ?? [],
    outbox: ticketWorkFor(bound.events),
    writeback: writebackWorkFor(finding, bound.events),
    notices: noticesFor(bound.events, finding),
    history: expiredExceptionsOf(finding, bound.events),
  };
}
