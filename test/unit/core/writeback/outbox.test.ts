import { AUDIT_ACTIONS } from '@core/audit/actions';
import { GENESIS_HASH, chainEvents, type AuditEventDraft } from '@core/audit/chain';
import { createFinding } from '@core/finding/merge';
import type { Finding, Source } from '@core/finding/model';
import { redactText } from '@core/shared/redaction';
import { MAX_NOTE, revocationProven, writebackNote } from '@core/writeback/message';
import { WRITEBACK_MARK, targetKey, writebackTargets, type WritebackWork } from '@core/writeback/model';
import { WRITEBACK_OPS, writebackWorkFor } from '@core/writeback/outbox';
import { anObservation } from '@test/support/factories';

const at = '2026-11-01T00:00:00.000Z';
const github: Source = {
  scanner: 'github-secret-scanning',
  scannerId: 'acme/api#7',
  ruleId: 'github_personal_access_token',
  firstReportedAt: at,
  state: 'open',
  ref: { system: 'github', repository: 'acme/api', alert: 7 },
};
const aFinding = (overrides: Partial<Finding> = {}): Finding => ({
  ...createFinding(anObservation({ source: github }), new Date(at), 'test').finding,
  ...overrides,
});
const chained = (id: string, ...drafts: AuditEventDraft[]) =>
  chainEvents(id, { count: 0, lastHash: GENESIS_HASH }, drafts);

describe('the write-back outbox', () => {
  it('decides for every audit action what the scanners learn', () => {
    expect(Object.keys(WRITEBACK_OPS).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('turns a closing, a false positive, an accepted risk, a reopening and a new ticket into work, nothing else', () => {
    const f = aFinding();
    const events = chained(
      f.id,
      { at, actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-a' },
      { at, actor: 'closeloop:sync', action: 'ticket.created', to: 'SEC-1' },
      { at, actor: 'closeloop:lifecycle', action: 'risk.accepted', reason: 'accepted until 2027-01-01' },
      { at, actor: 'closeloop:lifecycle', action: 'finding.reopened', reason: 'exception expired' },
      {
        at,
        actor: 'closeloop:lifecycle',
        action: 'finding.resolved',
        reason: 'closed on rotation record',
        evidenceRef: 'rot-1',
      },
      { at, actor: 'bob', action: 'finding.false_positive', reason: 'test fixture' },
    );
    expect(writebackWorkFor(f, events).map((w) => [w.seq, w.op, w.evidenceRef])).toEqual([
      [2, 'notify', undefined],
      [3, 'accept_risk', undefined],
      [4, 'reopen', undefined],
      [5, 'resolve', 'rot-1'],
      [6, 'false_positive', undefined],
    ]);
  });

  it('queues nothing for a finding no scanner with a writable record reported (a gitleaks file)', () => {
    const f = createFinding(anObservation(), new Date(at), 'test').finding;
    const events = chained(f.id, { at, actor: 'closeloop:lifecycle', action: 'finding.resolved' });
    expect(writebackWorkFor(f, events)).toEqual([]);
  });

  it('reaches each scanner record once, however many sources name it', () => {
    const ggshield: Source = {
      ...github,
      scanner: 'ggshield',
      scannerId: 'x',
      ref: { system: 'gitguardian', incident: 5 },
    };
    const gitguardian: Source = { ...github, scanner: 'gitguardian', scannerId: 'incident/5', ref: ggshield.ref! };
    expect(writebackTargets([github, ggshield, gitguardian]).map(targetKey)).toEqual([
      'github:acme/api#7',
      'gitguardian:incident/5',
    ]);
  });
});

describe('the note a scanner record gets', () => {
  const work = (overrides: Partial<WritebackWork>): WritebackWork => ({
    findingId: 'NHI-0000000000000001',
    seq: 9,
    op: 'resolve',
    action: 'finding.resolved',
    reason: '',
    actor: 'closeloop:lifecycle',
    createdAt: at,
    attempts: 0,
    nextAttemptAt: at,
    done: [],
    skipped: [],
    ...overrides,
  });
  const evidence = (kind: Finding['evidence'][number]['kind'], ref: string) => ({
    kind,
    ref,
    at,
    recordedBy: 'closeloop:rotation',
    simulated: false,
  });

  it('names the finding, the evidence that closed it and the ticket, marked as closeloop’s with its work id', () => {
    const f = aFinding({
      evidence: [evidence('rotation_record', 'rotation:app/ci v2')],
      ticket: { system: 'jira', key: 'SEC-12', url: 'https://acme.atlassian.net/browse/SEC-12' },
    });
    const note = writebackNote(f, work({ findingId: f.id, evidenceRef: 'rotation:app/ci v2' }));
    expect(note).toBe(
      `${WRITEBACK_MARK} ${f.id} resolved on evidence: rotation record (rotation:app/ci v2). Ticket SEC-12 https://acme.atlassian.net/browse/SEC-12. [${f.id}-9]`,
    );
    expect(revocationProven(f, { evidenceRef: 'rotation:app/ci v2' })).toBe(true);
  });

  it('says so when the evidence does not prove the credential revoked (a clean re-scan)', () => {
    const f = aFinding({ evidence: [evidence('clean_rescan', 'scan:gitleaks:r.json')] });
    const w = work({ findingId: f.id, evidenceRef: 'scan:gitleaks:r.json' });
    expect(revocationProven(f, w)).toBe(false);
    expect(writebackNote(f, w)).toContain('Revocation at the source was not proven.');
    // A validity check that found the credential inactive proves it.
    expect(revocationProven({ ...f, validity: 'inactive' }, w)).toBe(true);
  });

  it('never carries a credential someone typed into a reason, and fits every scanner (500 characters)', () => {
    const key = 'AKIAIOSFODNN7EXAMPLE';
    const f = aFinding();
    const note = writebackNote(
      f,
      work({ findingId: f.id, op: 'false_positive', reason: `test key ${key} ${'x'.repeat(900)}` }),
    );
    expect(note).not.toContain(key);
    expect(redactText(note)).toBe(note);
    expect(note.length).toBeLessThanOrEqual(MAX_NOTE);
    expect(note.endsWith(`[${f.id}-9]`)).toBe(true);
  });
});
