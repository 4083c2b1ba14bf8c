import { createFinding, mergeObservation, LAST_SEEN_RESOLUTION_MS } from '@core/finding/merge';
import { anObservation } from '@test/support/factories';

const t0 = new Date('2026-11-01T00:00:00.000Z');

describe('merging observations into findings', () => {
  const created = createFinding(anObservation(), t0, 'ingest:gitleaks').finding;

  it('creates an open finding with a stable id and a finding.created event', () => {
    const result = createFinding(anObservation(), t0, 'ingest:gitleaks');
    expect(result.finding).toMatchObject({
      id: created.id,
      status: 'open',
      version: 1,
      firstSeen: t0.toISOString(),
      sources: [expect.objectContaining({ scanner: 'gitleaks' })],
    });
    expect(result.events.map((e) => e.action)).toEqual(['finding.created']);
  });

  it('treats the same observation again as unchanged, with no write', () => {
    const again = mergeObservation(created, anObservation(), new Date(t0.getTime() + 60_000), 'ingest:gitleaks');
    expect(again).toMatchObject({ change: 'unchanged', write: false, events: [] });
  });

  it('refreshes lastSeen without an event once it is older than the resolution', () => {
    const later = new Date(t0.getTime() + LAST_SEEN_RESOLUTION_MS);
    const again = mergeObservation(created, anObservation(), later, 'ingest:gitleaks');
    expect(again).toMatchObject({ change: 'unchanged', write: true, events: [] });
    expect(again.finding.lastSeen).toBe(later.toISOString());
  });

  it('adds a second scanner as a source and keeps the first', () => {
    const merged = mergeObservation(
      created,
      anObservation({
        source: {
          scanner: 'trufflehog',
          scannerId: 'x',
          ruleId: 'Generic',
          firstReportedAt: t0.toISOString(),
          state: 'open',
        },
      }),
      t0,
      'ingest:trufflehog',
    );
    expect(merged.change).toBe('updated');
    expect(merged.finding.sources.map((s) => s.scanner)).toEqual(['gitleaks', 'trufflehog']);
    expect(merged.events.map((e) => e.action)).toEqual(['source.added']);
  });

  it('raises validity and severity but never lowers them', () => {
    const active = mergeObservation(created, anObservation({ validity: 'active', severity: 'high' }), t0, 'x').finding;
    expect(active).toMatchObject({ validity: 'active', severity: 'high' });
    const later = mergeObservation(active, anObservation({ validity: 'inactive', severity: 'low' }), t0, 'x');
    expect(later.change).toBe('unchanged');
    expect(later.finding).toMatchObject({ validity: 'active', severity: 'high' });
  });

  it('adds NHI9 (reuse) when the same secret appears in a second repository', () => {
    const merged = mergeObservation(
      created,
      anObservation({ locations: [{ kind: 'file', repository: 'github.com/acme/other', path: 'a.env', line: 1 }] }),
      t0,
      'x',
    );
    expect(merged.finding.owaspNhi).toEqual(['NHI2', 'NHI9']);
    expect(merged.finding.locations).toHaveLength(2);
  });

  it('counts locations beyond the cap instead of growing the item without bound', () => {
    let finding = created;
    const many = Array.from({ length: 250 }, (_, i) => ({
      kind: 'file' as const,
      repository: 'github.com/acme/api',
      path: `f${i}.ts`,
      line: 1,
    }));
    finding = mergeObservation(finding, anObservation({ locations: many }), t0, 'x').finding;
    expect(finding.locations).toHaveLength(200);
    expect(finding.locationsNotListed).toBe(51);
  });
});
