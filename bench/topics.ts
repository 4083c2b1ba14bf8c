/**
 * Topics whose measures live in their own modules (written before the harness): the first-day
 * Jira sync under the default policy (tickets.bench.ts) and the audit trail's digests and
 * verification (audit.ts), as harness topics.
 */
import { benchAudit } from './audit';
import type { BenchTopic } from './harness';
import { benchTickets, describeTickets, type TicketsBench } from './tickets.bench';

/** Jira requests per finding on a user's first day (default policy, owners unmatched, approvals pending). */
export const ticketsBench: BenchTopic<TicketsBench> = {
  name: 'jira',
  async run(ctx) {
    return benchTickets((await ctx.dynamo()).client);
  },
  print: (r) => [describeTickets(r)],
};

/** State binding per write, the digest writer and audit verify against a plain Scan (prints its own lines). */
export const auditBench: BenchTopic<Record<string, unknown>> = {
  name: 'audit',
  async run(ctx) {
    return benchAudit((await ctx.dynamo()).client, Number(process.env.BENCH_AUDIT_FINDINGS ?? ctx.n));
  },
  print: () => [],
};
