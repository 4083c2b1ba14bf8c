import type { TicketWork } from '../tickets/model';

/** Pending ticket work is listed through the byTimer index, in this partition, oldest first. */
export const OUTBOX_PARTITION = 'OUTBOX';

export const workSk = (seq: number) => `TICKETWORK#${String(seq).padStart(10, '0')}`;
export const ticketKey = (findingId: string) => ({ pk: `FINDING#${findingId}`, sk: '#TICKET' });

/** A pending work item: beside its finding, and in the OUTBOX partition of byTimer while pending. */
export function toWorkItem(work: TicketWork): Record<string, unknown> {
  return {
    pk: `FINDING#${work.findingId}`,
    sk: workSk(work.seq),
    type: 'ticket_work',
    ...work,
    state: 'pending',
    gsi4pk: OUTBOX_PARTITION,
    gsi4sk: `${work.createdAt}#${work.findingId}#${String(work.seq).padStart(10, '0')}`,
  };
}
