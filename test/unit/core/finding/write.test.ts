import { chainEvents, verifyChain } from '@core/audit/chain';
import { createFinding } from '@core/finding/merge';
import { FindingSchema, type Finding } from '@core/finding/model';
import { findingStateHash, findingWrite } from '@core/finding/write';
import { anObservation } from '@test/support/factories';

const at = new Date('2026-11-01T00:00:00.000Z');

/** A finding as its first write stores it, with that write's events. */
function aFirstWrite() {
  const created = createFinding(anObservation(), at, 'ingest:gitleaks');
  const events = chainEvents(created.finding.id, { count: 0, lastHash: created.finding.lastEventHash }, created.events);
  const write = findingWrite({
    finding: { ...created.finding, eventCount: 1, lastEventHash: events[0]!.hash },
    expectedVersion: null,
    events,
  });
  return write;
}
const aStoredFinding = (): Finding => aFirstWrite().finding;

describe('findingWrite binds the decision fields to the chain head', () => {
  it("puts the state's hash in the write's last event and the event's new hash at the head", () => {
    const first = aFirstWrite();
    const f = first.finding;
    const events = chainEvents(f.id, { count: f.eventCount, lastHash: f.lastEventHash }, [
      { at: at.toISOString(), actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-a' },
      { at: at.toISOString(), actor: 'closeloop:lifecycle', action: 'sla.started' },
    ]);
    const next = { ...f, owner: 'team-a', version: 2, eventCount: 3, lastEventHash: events[1]!.hash };
    const write = findingWrite({ finding: next, expectedVersion: 1, events });
    expect(write.events[0]!.stateHash).toBeUndefined();
    expect(write.events[1]!.stateHash).toBe(findingStateHash(next));
    expect(write.finding).toMatchObject({ stateHash: findingStateHash(next), lastEventHash: write.events[1]!.hash });
    expect(write.events[1]!.hash).not.toBe(events[1]!.hash);
    // The re-hashed event still chains: the trail verifies against the head the finding records.
    expect(
      verifyChain([...first.events, ...write.events], { count: 3, lastHash: write.finding.lastEventHash }),
    ).toEqual({ ok: true, events: 3 });
  });

  it('refuses a write without events that changes a decision field, and lets one that changes only bookkeeping through', () => {
    const f = aStoredFinding();
    expect(() =>
      findingWrite({ finding: { ...f, status: 'resolved', version: 2 }, expectedVersion: 1, events: [] }),
    ).toThrow(`finding ${f.id}: a write changes decision fields without an audit event; refused`);
    const touched = findingWrite({
      finding: { ...f, lastSeen: '2026-11-02T00:00:00.000Z', lifecycle: { startedGeneration: 1 }, version: 2 },
      expectedVersion: 1,
      events: [],
    });
    expect(touched.finding.stateHash).toBe(f.stateHash);
  });

  it('hashes the state as the stored item reads back (defaults applied)', () => {
    const f = aStoredFinding();
    const withEvidence = {
      ...f,
      evidence: [{ kind: 'clean_rescan', ref: 'scan-1', at: at.toISOString(), recordedBy: 'ingest' } as never],
    };
    const readBack = FindingSchema.parse(JSON.parse(JSON.stringify(withEvidence)));
    expect(readBack.evidence[0]!.simulated).toBe(false);
    expect(findingStateHash(readBack)).toBe(findingStateHash(withEvidence));
  });
});
