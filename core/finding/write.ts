import type { AuditEvent } from '../audit/chain';
import { noticesFor } from '../notify/notices';
import { ticketWorkFor } from '../tickets/outbox';
import { writebackWorkFor } from '../writeback/outbox';
import { expiredExceptionsOf } from './history';
import type { FindingWrite } from './ports';

/**
 * A finding write with everything it owes besides its events: the ticket work and the scanner
 * write-backs they cause (the transactional outboxes), the notices they give people, and the
 * history items of an expiring exception. The store only persists what this says.
 */
export function findingWrite(parts: {
  finding: FindingWrite['finding'];
  expectedVersion: number | null;
  events: AuditEvent[];
  aliases?: string[];
}): FindingWrite {
  return {
    finding: parts.finding,
    expectedVersion: parts.expectedVersion,
    events: parts.events,
    aliases: parts.aliases ?? [],
    outbox: ticketWorkFor(parts.events),
    writeback: writebackWorkFor(parts.finding, parts.events),
    notices: noticesFor(parts.events, parts.finding),
    history: expiredExceptionsOf(parts.finding, parts.events),
  };
}
