/**
 * Reports over BENCH_REPORT_FINDINGS (100,000) findings seeded into DynamoDB Local: for each report
 * the DynamoDB requests, read units and time, against a full Scan of the same table measured in the
 * same run (target ≤ 0.1× for owner- or expiry-scoped reports).
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { expiredExceptionRecord } from '../core/finding/history';
import type { Finding } from '../core/finding/model';
import { DEFAULT_POLICY } from '../core/policy/policy';
import { computeReport, type ReportKind, type ReportOptions } from '../core/reports/reports';
import { toExpiredExceptionItem, toFindingItem } from '../core/store/dynamo-finding-store';
import { DynamoReportSource } from '../core/store/dynamo-report-source';
import { ensureTable } from '../core/store/ensure-table';
import { SingleTable } from '../core/store/table';
import { f, rawBatchWrite, type BenchTopic } from './harness';

export interface ReportsResult {
  findings: number;
  seedMs: number;
  scan: { requests: number; readUnits: number; ms: number };
  reports: Array<Record<string, unknown>>;
  target: number;
}

export const reportsBench: BenchTopic<ReportsResult> = {
  name: 'reports',
  async run(ctx) {
    const { client } = await ctx.dynamo();
    const n = Number(process.env.BENCH_REPORT_FINDINGS ?? 100_000);
    const table = 'bench-reports';
    await ensureTable(client, table);
    const now = Date.parse('2026-11-20T12:00:00.000Z');
    const day = 86_400_000;
    const at = (d: number) => new Date(now + d * day).toISOString();
    const owners = Array.from({ length: 50 }, (_, i) => `team-${i}`);
    const items: Record<string, AttributeValue>[] = [];
    for (let i = 0; i < n; i++) {
      const r = i % 100;
      const status =
        r < 60
          ? 'open'
          : r < 65
            ? 'awaiting_approval'
            : r < 85
              ? 'resolved'
              : r < 90
                ? 'false_positive'
                : r < 95
                  ? 'risk_accepted'
                  : 'reopened';
      const owner = r % 50 === 49 ? 'identity-programme' : owners[i % owners.length]!;
      const severity = (['critical', 'high', 'medium', 'low'] as const)[i % 4]!;
      const firstSeen = at(-((i % 300) + 1));
      const id = `NHI-${i.toString(16).toUpperCase().padStart(16, '0')}`;
      const exceptionUntil = at((i % 120) + 1);
      const finding: Finding = {
        id,
        fingerprint: `bench:${i}`,
        title: `bench finding ${i}`,
        nhiType: 'api_key',
        detector: 'bench',
        severity,
        validity: 'active',
        publiclyExposed: false,
        asset: { type: 'repository', id: `github.com/acme/repo-${i % 500}` },
        locations: [],
        locationsNotListed: 0,
        sources: [
          {
            scanner: 'gitleaks',
            scannerId: `s${i}`,
            ruleId: 'generic-api-key',
            firstReportedAt: firstSeen,
            state: 'open',
          },
        ],
        owaspNhi: ['NHI2'],
        nistCsf: ['ID.RA-01', 'PR.AA-01'],
        owner,
        ownerVia: owner === 'identity-programme' ? 'unowned_queue' : 'mapping',
        dueAt: at((i % 60) - 20),
        generation: 1,
        evidence: [],
        status,
        firstSeen,
        lastSeen: firstSeen,
        version: 1,
        eventCount: 0,
        lastEventHash: '0'.repeat(64),
        ...(status === 'resolved' || status === 'false_positive' ? { closedAt: at(-(i % 20)) } : {}),
        ...(status === 'risk_accepted'
          ? {
              exception: {
                requestedBy: owner,
                requestedAt: at(-10),
                until: exceptionUntil,
                reason: 'bench',
                approvedBy: 'alice',
                approvedAt: at(-9),
              },
              lifecycle: {
                startedGeneration: 1,
                waitingAt: 'ExceptionWait',
                timerAt: exceptionUntil,
                timerKind: 'exception_expiry' as const,
              },
            }
          : {}),
        ...(status === 'reopened'
          ? {
              expiredException: {
                requestedBy: owner,
                requestedAt: at(-100),
                until: at(-5),
                reason: 'bench',
                approvedBy: 'alice',
                expiredAt: at(-5),
              },
            }
          : {}),
      };
      items.push(marshall(toFindingItem(finding), { removeUndefinedValues: true }));
      // What the lifecycle's reopen step writes with the transition: the expired exception's history item.
      if (status === 'reopened')
        items.push(
          marshall(toExpiredExceptionItem(expiredExceptionRecord(finding, finding.expiredException!)), {
            removeUndefinedValues: true,
          }),
        );
    }
    const seedStart = performance.now();
    await rawBatchWrite(client, table, items, 4);
    const seedMs = performance.now() - seedStart;
    items.length = 0;

    // The baseline: every item of the table, read with a Scan.
    const scanStart = performance.now();
    let scanRequests = 0;
    let scanUnits = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({ TableName: table, ExclusiveStartKey: start, ReturnConsumedCapacity: 'TOTAL' }),
      );
      scanRequests++;
      scanUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    const scanMs = performance.now() - scanStart;

    const runs: Array<{ name: string; scoped: boolean; kind: ReportKind; options: Partial<ReportOptions> }> = [
      { name: 'sla --owner team-7', scoped: true, kind: 'sla', options: { owner: 'team-7' } },
      { name: 'ownership --owner team-7', scoped: true, kind: 'ownership', options: { owner: 'team-7' } },
      { name: 'exceptions', scoped: true, kind: 'exceptions', options: {} },
      { name: 'exceptions --owner team-7', scoped: true, kind: 'exceptions', options: { owner: 'team-7' } },
      { name: 'standards --owner team-7', scoped: true, kind: 'standards', options: { owner: 'team-7' } },
      { name: 'rotation --owner team-7', scoped: true, kind: 'rotation', options: { owner: 'team-7' } },
      { name: 'audit --finding', scoped: true, kind: 'audit', options: { findingId: 'NHI-0000000000000007' } },
      { name: 'sla', scoped: false, kind: 'sla', options: {} },
      { name: 'ownership', scoped: false, kind: 'ownership', options: {} },
      { name: 'rotation', scoped: false, kind: 'rotation', options: {} },
      { name: 'standards', scoped: false, kind: 'standards', options: {} },
    ];
    const reports: Array<Record<string, unknown>> = [];
    for (const r of runs) {
      const source = new DynamoReportSource(new SingleTable(client, table));
      const t = performance.now();
      const report = await computeReport(r.kind, source, { now: new Date(now), policy: DEFAULT_POLICY, ...r.options });
      const ms = performance.now() - t;
      const reads = report.reads!;
      reports.push({
        report: r.name,
        scoped: r.scoped,
        requests: reads.requests,
        readUnits: reads.readUnits,
        ms,
        unitsVsScan: reads.readUnits / scanUnits,
        timeVsScan: ms / scanMs,
        mainRows: report.sections[0]!.rows.length,
      });
    }
    return {
      findings: n,
      seedMs,
      scan: { requests: scanRequests, readUnits: scanUnits, ms: scanMs },
      reports,
      target: 0.1,
    };
  },
  print: (rp) => [
    `reports over ${rp.findings} findings (seeded in ${f(rp.seedMs / 1000, 0)} s); baseline full Scan: ${rp.scan.requests} requests, ${f(rp.scan.readUnits, 0)} read units, ${f(rp.scan.ms, 0)} ms`,
    ...rp.reports.map(
      (r) =>
        `  report ${String(r.report).padEnd(26)} ${String(r.requests).padStart(4)} requests ${f(Number(r.readUnits), 0).padStart(7)} RCU ${f(Number(r.ms), 0).padStart(6)} ms → ${f(Number(r.unitsVsScan), 3)}× the Scan's read units, ${f(Number(r.timeVsScan), 3)}× its time${r.scoped ? ' (scoped: target ≤ 0.1×)' : ''}`,
    ),
  ],
};
