/**
 * Tickets on the user's first day: N new findings under the DEFAULT policy (no owner mappings, so
 * every owner is unmatched; unverified keys, so their rotations wait for an approver), their
 * lifecycles run to their waits on the local runner, then the first sync to the Jira stand-in on
 * 127.0.0.1. Measured: HTTP requests per new finding (target ≤ 0.05) and what they were, the
 * comments posted (target 0: what is known at creation goes into the create call), and the time,
 * against creating the same issues one by one (`POST /rest/api/3/issue`, same concurrency)
 * measured in the same run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import axios from 'axios';
import { SecretHasher } from '../core/finding/identity';
import { plannedRotations } from '../test/support/planned-remediation';
import { DEFAULT_POLICY } from '../core/policy/policy';
import { fixedClock } from '../core/shared/clock';
import { DynamoFindingStore } from '../core/store/dynamo-finding-store';
import { DynamoTicketStore } from '../core/store/dynamo-ticket-store';
import { ensureTable } from '../core/store/ensure-table';
import { LocalTrackerSink } from '../core/store/local-tracker';
import { SingleTable } from '../core/store/table';
import { ticketDraft } from '../core/tickets/draft';
import { syncTickets } from '../core/tickets/sync';
import { sectionsDoc } from '../connectors/sinks/jira/adf';
import { readJiraConfig } from '../connectors/sinks/jira/config';
import { JiraSink } from '../connectors/sinks/jira/jira-sink';
import { ingestReportFiles } from '../connectors/sources/ingest-reports';
import { LocalLifecycleRunner } from '../local/lifecycle-runner';
import { FakeJira } from '../test/support/fake-jira';
import { aGitleaksRecord } from '../test/support/factories';

export interface TicketsBench {
  findings: number;
  awaitingApproval: number;
  unowned: number;
  created: number;
  syncRequests: number;
  requestsPerFinding: number;
  target: number;
  comments: number;
  byRoute: Record<string, number>;
  syncMs: number;
  oneByOneRequests: number;
  oneByOneMs: number;
  syncVsOneByOneTime: number;
  specViolations: number;
}

const time = async (fn: () => Promise<unknown>) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

/** Runs `fn` over items with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The first sync of BENCH_TICKET_FINDINGS (500) new findings under the default policy. */
export async function benchTickets(client: DynamoDBClient): Promise<TicketsBench> {
  const n = Number(process.env.BENCH_TICKET_FINDINGS ?? 500);
  const clock = fixedClock('2026-11-01T00:00:00.000Z');
  const table = 'bench-tickets';
  await ensureTable(client, table);
  const store = new DynamoFindingStore(new SingleTable(client, table));
  const file = join(mkdtempSync(join(tmpdir(), 'closeloop-bench-tickets-')), 'gitleaks.json');
  // Half leaked AWS keys, half generic API keys, in 20 repositories nobody mapped to an owner.
  const records = Array.from({ length: n }, (_, i) =>
    aGitleaksRecord({
      RuleID: i % 2 === 0 ? 'aws-access-token' : 'generic-api-key',
      File: `services/svc-${i % 50}/config-${i}.env`,
      StartLine: (i % 400) + 1,
      Link: `https://github.com/acme/repo-${i % 20}/blob/main/services/svc-${i % 50}/config-${i}.env#L1`,
      Fingerprint: `tickets:${i}`,
    }),
  );
  writeFileSync(file, JSON.stringify(records));
  await ingestReportFiles([file], { store, clock, hasher: new SecretHasher(Buffer.alloc(32, 9)) });
  const runner = new LocalLifecycleRunner({
    store,
    clock,
    policy: DEFAULT_POLICY,
    // Managed secrets hold the API keys and cloud keys: rotations the default policy does not
    // pre-authorize wait for an approver (the plan comes first, issue 17.2).
    remediation: plannedRotations(store, DEFAULT_POLICY),
  });
  await pool(await store.list(), 8, (f) => runner.start(f));
  const waiting = await store.list();

  const jira = await new FakeJira().start();
  try {
    const config = readJiraConfig({
      JIRA_BASE_URL: jira.url,
      JIRA_EMAIL: 'hub@example.com',
      JIRA_API_TOKEN: 'jira-token',
      JIRA_PROJECT_KEY: 'SEC',
    });
    const tickets = new DynamoTicketStore(new SingleTable(client, table));
    const syncMs = await time(() =>
      syncTickets({
        store,
        tickets,
        clock,
        policy: DEFAULT_POLICY,
        sinks: { jira: new JiraSink(config), local: new LocalTrackerSink(new SingleTable(client, table)) },
        configured: { jiraProject: 'SEC', servicenow: false },
        worker: 'bench',
        batchSize: 5000,
      }),
    );
    const syncRequests = jira.requests.length;
    const byRoute = jira.counts();
    const comments = [...jira.issues.values()].reduce((sum, issue) => sum + issue.comments.length, 0);
    const created = jira.issues.size;
    // Baseline: the same issues, one POST each, 4 at a time (the sync's concurrency bound).
    const http = axios.create({ baseURL: jira.url, auth: { username: 'hub@example.com', password: 'jira-token' } });
    const drafts = (await store.list()).map((f) => ticketDraft(f, DEFAULT_POLICY));
    const before = jira.requests.length;
    const oneByOneMs = await time(() =>
      pool(drafts, 4, (d) =>
        http.post('/rest/api/3/issue', {
          fields: {
            project: { key: 'SEC' },
            issuetype: { name: 'Task' },
            summary: d.summary,
            description: sectionsDoc(d.sections),
            labels: ['closeloop', `${d.label}-baseline`],
          },
        }),
      ),
    );
    return {
      findings: n,
      awaitingApproval: waiting.filter((f) => f.lifecycle?.waitingAt === 'AwaitApproval').length,
      unowned: waiting.filter((f) => f.ownerVia === 'unowned_queue').length,
      created,
      syncRequests,
      requestsPerFinding: syncRequests / n,
      target: 0.05,
      comments,
      byRoute,
      syncMs,
      oneByOneRequests: jira.requests.length - before,
      oneByOneMs,
      syncVsOneByOneTime: syncMs / oneByOneMs,
      specViolations: jira.violations.length,
    };
  } finally {
    await jira.stop();
  }
}

/** The printout: one line. */
export function describeTickets(r: TicketsBench): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  return `tickets, first day (default policy): ${r.created} Jira issues for ${r.findings} new findings (${r.unowned} owners unmatched, ${r.awaitingApproval} awaiting approval) with ${r.syncRequests} HTTP requests → ${f(r.requestsPerFinding, 3)} per finding (target ≤ ${r.target}), ${r.comments} comments, in ${f(r.syncMs, 0)} ms; one-by-one creation ${r.oneByOneRequests} requests in ${f(r.oneByOneMs, 0)} ms → sync takes ${f(r.syncVsOneByOneTime)}× the time; ${r.specViolations} spec violations`;
}
