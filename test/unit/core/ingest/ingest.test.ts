import { ingestRecords, quarantineUnreadableReport, type RecordOutcome } from '@core/ingest/ingest';
import type { Finding } from '@core/finding/model';
import type { LifecycleLauncher } from '@core/lifecycle/ports';
import { fixedClock } from '@core/shared/clock';
import { anObservation } from '@test/support/factories';
import { aMemoryStore } from '@test/support/memory-store';

const clock = fixedClock('2026-11-01T12:00:00.000Z');
const records = (...secrets: string[]): RecordOutcome[] =>
  secrets.map((s, i) => ({
    recordNo: i + 1,
    kind: 'observation',
    observation: anObservation({ fingerprint: `secret:${s.repeat(64)}`, secretHash: s.repeat(64) }),
  }));

describe('ingest', () => {
  it('starts the lifecycles of what a round wrote, after its commit, when given a launcher; only once per generation', async () => {
    const store = aMemoryStore();
    const started: Finding[] = [];
    const launcher: LifecycleLauncher<string> = {
      // A start marks the generation started, as both launchers do.
      start: async (finding) => {
        expect(await store.get(finding.id)).toBeDefined(); // committed before its lifecycle starts
        started.push(finding);
        const f = (await store.get(finding.id))!;
        await store.commit([
          {
            finding: { ...f, version: f.version + 1, lifecycle: { startedGeneration: f.generation } },
            expectedVersion: f.version,
            events: [],
            aliases: [],
            outbox: [],
            notices: [],
            history: [],
          },
        ]);
        return 'started';
      },
    };
    await ingestRecords(records('a', 'b'), { store, clock, reportName: 'r.json', format: 'gitleaks', launcher });
    expect(started).toHaveLength(2);
    await ingestRecords(records('a', 'b'), { store, clock, reportName: 'r.json', format: 'gitleaks', launcher });
    expect(started).toHaveLength(2);
  });

  it('keeps an unreadable report as one quarantine entry naming it', async () => {
    const store = aMemoryStore();
    const kept: unknown[] = [];
    store.quarantine = async (entries) => void kept.push(...entries);
    await quarantineUnreadableReport(
      { store, clock },
      {
        name: 's3://reports/broken.json',
        problem: 'broken.json: it ends early',
        identity: ['s3', 'reports', 'broken.json'],
      },
    );
    expect(kept).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        receivedAt: '2026-11-01T12:00:00.000Z',
        file: 's3://reports/broken.json',
        format: 'unknown',
        recordNo: 0,
        problems: ['broken.json: it ends early'],
        redactedRecord: 'null',
      },
    ]);
  });
});
