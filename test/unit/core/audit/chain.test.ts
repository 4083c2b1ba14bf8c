import type { AuditAction } from '@core/audit/actions';
import { GENESIS_HASH, chainEvents, verifyChain, type AuditEventDraft } from '@core/audit/chain';

const draft = (action: AuditAction, reason?: string): AuditEventDraft => ({
  at: '2026-11-01T00:00:00.000Z',
  actor: 'ingest:gitleaks',
  action,
  ...(reason ? { reason } : {}),
});

describe('hash-chained audit events', () => {
  const chain = chainEvents('NHI-0000000000000001', { count: 0, lastHash: GENESIS_HASH }, [
    draft('finding.created'),
    draft('source.added'),
    draft('finding.updated', 'validity unknown → active'),
  ]);

  it('verifies an untouched chain', () => {
    expect(verifyChain(chain, { count: 3, lastHash: chain[2]!.hash })).toEqual({ ok: true, events: 3 });
  });

  it('continues a chain from its head', () => {
    const more = chainEvents('NHI-0000000000000001', { count: 3, lastHash: chain[2]!.hash }, [draft('owner.assigned')]);
    expect(more[0]!.seq).toBe(4);
    expect(verifyChain([...chain, ...more]).ok).toBe(true);
  });

  it('names the event whose content was edited', () => {
    const tampered = chain.map((e) => (e.seq === 2 ? { ...e, reason: 'nothing to see' } : e));
    expect(verifyChain(tampered)).toEqual({
      ok: false,
      events: 3,
      brokenAt: 2,
      problem: 'event 2 (source.added) was altered: its content does not match its hash',
    });
  });

  it('names the gap when an event in the middle is removed', () => {
    expect(verifyChain([chain[0]!, chain[2]!])).toMatchObject({
      ok: false,
      brokenAt: 2,
      problem: 'event 2 is missing (found event 3 in its place)',
    });
  });

  it('detects a removed tail against the recorded chain head', () => {
    expect(verifyChain(chain.slice(0, 2), { count: 3, lastHash: chain[2]!.hash })).toMatchObject({
      ok: false,
      brokenAt: 3,
    });
  });

  it('detects an event re-hashed after editing (its successor no longer follows it)', () => {
    const edited = chainEvents('NHI-0000000000000001', { count: 1, lastHash: chain[0]!.hash }, [
      draft('source.added', 'forged'),
    ]);
    expect(verifyChain([chain[0]!, edited[0]!, chain[2]!])).toMatchObject({ ok: false, brokenAt: 3 });
  });
});
