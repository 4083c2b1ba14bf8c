/**
 * Jira sync of BENCH_JIRA_FINDINGS new findings against the Jira stand-in on 127.0.0.1 (its OpenAPI
 * checks on): HTTP requests per new finding (target ≤ 0.05) and time, against creating the same
 * issues one by one (`POST /rest/api/3/issue`, same concurrency) measured in the same run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import { updateFinding } from '../core/finding/update';
import { DEFAULT_POLICY } from '../core/policy/policy';
import { DynamoTicketStore } from '../core/store/dynamo-ticket-store';
import { LocalTrackerSink } from '../core/store/local-tracker';
import { SingleTable } from '../core/store/table';
import { ticketDraft } from '../core/tickets/draft';
import { syncTickets } from '../core/tickets/sync';
import { sectionsDoc } from '../connectors/sinks/jira/adf';
import { readJiraConfig } from '../connectors/sinks/jira/config';
import { JiraSink } from '../connectors/sinks/jira/jira-sink';
import { ingestReportFiles } from '../connectors/sources/ingest-reports';
import { FakeJira } from '../test/support/fake-jira';
import { f, freshTable, gitleaksReport, time, type BenchTopic } from './harness';

export interface JiraResult {
  findings: number;
  created: number;
  syncMs: number;
  syncRequests: number;
  requestsPerFinding: number;
  target: number;
  byRoute: unknown;
  oneByOneMs: number;
  oneByOneRequests: number;
  oneByOneRequestsPerFinding: number;
  syncVsOneByOneTime: number;
  specViolations: number;
}

export const jiraBench: BenchTopic<JiraResult> = {
  name: 'jira',
  async run(ctx) {
    const { client } = await ctx.dynamo();
    const clock = ctx.clock;
    const n = Number(process.env.BENCH_JIRA_FINDINGS ?? 1000);
    const table = 'bench-jira';
    const store = await freshTable(client, table);
    const file = join(ctx.dir, 'gitleaks-jira.json');
    writeFileSync(file, gitleaksReport(n, 'jira'));
    await ingestReportFiles([file], { store, clock, hasher: ctx.hasher });
    const owners = Array.from({ length: 10 }, (_, i) => `team-${i}@example.com`);
    const findings = await store.list();
    // Triage without running 1,000 lifecycles: an owner, a due date, and the `owner.assigned` event (which queues the ticket).
    let i = 0;
    for (const f of findings) {
      const owner = owners[i++ % owners.length]!;
      await updateFinding(store, clock, f.id, (cur, at) => ({
        finding: { ...cur, owner, dueAt: at },
        events: [{ actor: 'bench', action: 'owner.assigned', to: owner }],
      }));
    }
    const jira = await new FakeJira({
      users: owners.map((email, k) => ({ accountId: `acc-${k}`, emailAddress: email })),
    }).start();
    try {
      const config = readJiraConfig({
        JIRA_BASE_URL: jira.url,
        JIRA_EMAIL: 'hub@example.com',
        JIRA_API_TOKEN: 'jira-token',
        JIRA_PROJECT_KEY: 'SEC',
      });
      const sink = new JiraSink(config);
      const tickets = new DynamoTicketStore(new SingleTable(client, table));
      const syncMs = await time(() =>
        syncTickets({
          store,
          tickets,
          clock,
          policy: DEFAULT_POLICY,
          sinks: { jira: sink, local: new LocalTrackerSink(new SingleTable(client, table)) },
          configured: { jiraProject: 'SEC', servicenow: false },
          worker: 'bench',
          batchSize: 1000,
        }),
      );
      const syncRequests = jira.requests.length;
      const created = jira.issues.size;
      // Baseline: the same issues, one POST each, 4 at a time (the sync's concurrency bound).
      const http = axios.create({ baseURL: jira.url, auth: { username: 'hub@example.com', password: 'jira-token' } });
      const drafts = (await store.list()).map((f) => ticketDraft(f, DEFAULT_POLICY));
      const before = jira.requests.length;
      const oneByOneMs = await time(async () => {
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next < drafts.length) {
              const d = drafts[next++]!;
              await http.post('/rest/api/3/issue', {
                fields: {
                  project: { key: 'SEC' },
                  issuetype: { name: 'Task' },
                  summary: d.summary,
                  description: sectionsDoc(d.sections),
                  labels: ['closeloop', `${d.label}-baseline`],
                },
              });
            }
          }),
        );
      });
      const oneByOneRequests = jira.requests.length - before;
      return {
        findings: n,
        created,
        syncMs,
        syncRequests,
        requestsPerFinding: syncRequests / n,
        target: 0.05,
        byRoute: jira.counts(),
        oneByOneMs,
        oneByOneRequests,
        oneByOneRequestsPerFinding: oneByOneRequests / n,
        syncVsOneByOneTime: syncMs / oneByOneMs,
        specViolations: jira.violations.length,
      };
    } finally {
      await jira.stop();
    }
  },
  print: (jr) => [
    `jira: ${jr.created} issues for ${jr.findings} new findings with ${jr.syncRequests} HTTP requests → ${f(jr.requestsPerFinding, 3)} per finding (target ≤ ${jr.target}) in ${f(jr.syncMs, 0)} ms; one-by-one creation ${jr.oneByOneRequests} requests in ${f(jr.oneByOneMs, 0)} ms → sync takes ${f(jr.syncVsOneByOneTime)}× the time; ${jr.specViolations} OpenAPI violations`,
  ],
};
