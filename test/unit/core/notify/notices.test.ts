import { AUDIT_ACTIONS } from '@core/audit/actions';
import { buildDigest, digestText, MAX_LINES_PER_SECTION } from '@core/notify/digest';
import type { Delivery, Notice } from '@core/notify/model';
import { NOTICE_RULES, exceptionExpiringNotice, noticeFor } from '@core/notify/notices';
import { channelWants, recipientsOf } from '@core/notify/routing';
import { DEFAULT_POLICY, parsePolicy } from '@core/policy/policy';

const event = (action: string, data?: Record<string, unknown>, reason = 'why') => ({
  findingId: 'NHI-00000000000000AA',
  seq: 7,
  at: '2026-11-02T09:00:00.000Z',
  action,
  reason,
  ...(data ? { data } : {}),
});

describe('what is told to people (core/notify)', () => {
  it('decides a notice for every audit action', () => {
    expect(Object.keys(NOTICE_RULES).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('tells about breaches, approvals, failures and live credentials, and not about routine events', () => {
    const kind = (action: string, data?: Record<string, unknown>, validity?: 'active' | 'unknown') =>
      noticeFor(event(action, data), 'finding', validity ? { validity } : undefined)?.kind ?? null;
    expect(kind('sla.breached', { escalatedTo: 'oncall' })).toBe('sla.breached');
    expect(kind('sla.escalated')).toBe('sla.escalated');
    expect(kind('approval.requested', { requiredRole: 'security-lead' })).toBe('approval.waiting');
    expect(kind('approval.timed_out')).toBe('approval.waiting');
    expect(kind('remediation.failed')).toBe('rotation.failed');
    expect(kind('rotation.abandoned')).toBe('rotation.failed');
    expect(kind('finding.created', undefined, 'active')).toBe('credential.active');
    expect(kind('finding.created', undefined, 'unknown')).toBeNull();
    expect(kind('finding.updated', { validity: { from: 'unknown', to: 'active' } })).toBe('credential.active');
    expect(kind('finding.updated')).toBeNull();
    expect(kind('exception.expired', { exposed: true })).toBe('credential.active');
    expect(kind('exception.expired', { exposed: false })).toBeNull();
    expect(kind('evidence.recorded')).toBeNull();
    expect(kind('no.such_action')).toBeNull();
  });

  it('keeps credential-shaped text out of a notice’s reason', () => {
    const notice = noticeFor(event('remediation.failed', {}, 'failed with AKIAABCDEFGHIJKLMNOP in the log'), 'finding');
    expect(notice!.reason).toBe('failed with [REDACTED] in the log');
  });

  it('addresses each kind to whom the issue names: escalation contact, role holders, owner and approver', () => {
    const policy = parsePolicy(
      { escalationContact: 'oncall', principals: [{ name: 'alice', roles: ['security-lead'] }] },
      'p',
    );
    const finding = { owner: 'team-payments', severity: 'critical' as const };
    const breach = noticeFor(event('sla.breached', { escalatedTo: 'oncall' }), 'finding')!;
    expect(recipientsOf(breach, finding, policy)).toEqual(['oncall']);
    const approval = noticeFor(event('approval.requested', { requiredRole: 'security-lead' }), 'finding')!;
    expect(recipientsOf(approval, finding, policy)).toEqual(['role:security-lead', 'alice']);
    const timeout = noticeFor(event('approval.timed_out', { escalatedTo: 'oncall' }), 'finding')!;
    expect(recipientsOf(timeout, finding, policy)).toEqual(['role:security-lead', 'alice', 'oncall']);
    const ending = exceptionExpiringNotice(
      {
        id: 'NHI-00000000000000AA',
        exception: {
          requestedBy: 'team-payments',
          requestedAt: 'x',
          until: '2026-12-01T00:00:00.000Z',
          reason: 'r',
          approvedBy: 'bob',
        },
      },
      '2026-11-20T00:00:00.000Z',
      14,
    )!;
    expect(ending.id).toBe('NHI-00000000000000AA#exception.expiring#2026-12-01T00:00:00.000Z');
    expect(recipientsOf(ending, finding, policy)).toEqual(['team-payments', 'bob']);
    const failed = noticeFor(event('remediation.failed'), 'finding')!;
    expect(recipientsOf(failed, undefined, DEFAULT_POLICY)).toEqual(['identity-programme']);
  });

  it('routes by recipients, kinds and severities; a managed secret has no severity', () => {
    const notice = noticeFor(event('sla.breached', { escalatedTo: 'oncall' }), 'finding')!;
    const channel = (c: Record<string, unknown>) =>
      parsePolicy({ notifications: { channels: [{ name: 'c', kind: 'slack', ...c }] } }, 'p').notifications
        .channels[0]!;
    expect(channelWants(channel({}), notice, ['oncall'], 'low')).toBe(true);
    expect(channelWants(channel({ to: ['on*'] }), notice, ['oncall'], 'low')).toBe(true);
    expect(channelWants(channel({ to: ['team-*'] }), notice, ['oncall'], 'low')).toBe(false);
    expect(channelWants(channel({ notices: ['approval.waiting'] }), notice, ['oncall'], 'low')).toBe(false);
    expect(channelWants(channel({ severities: ['critical'] }), notice, ['oncall'], 'low')).toBe(false);
    expect(channelWants(channel({ severities: ['critical'] }), notice, ['oncall'], undefined)).toBe(false);
  });

  it('refuses a notification policy it cannot follow, naming the field', () => {
    expect(() =>
      parsePolicy(
        {
          notifications: {
            channels: [
              { name: 'a', kind: 'slack' },
              { name: 'A', kind: 'teams' },
            ],
          },
        },
        'policy.json',
      ),
    ).toThrow('policy.json: "notifications.channels": channel names must be unique');
    expect(() => parsePolicy({ notifications: { channels: [{ name: 'a', kind: 'pager' }] } }, 'policy.json')).toThrow(
      /^policy\.json: "notifications\.channels\[0\]\.kind"/,
    );
    expect(() =>
      parsePolicy({ notifications: { channels: [{ name: 'a', kind: 'slack', url: 'https://x' }] } }, 'policy.json'),
    ).toThrow(/notifications\.channels\[0\]/);
  });

  it('digests by kind in a fixed order, lists at most ten lines per kind and counts the rest', () => {
    const delivery = (i: number, kind: Notice['kind']): Delivery => ({
      channel: 'c',
      recipients: ['oncall'],
      notice: {
        id: `NHI-${String(i).padStart(16, '0')}#1`,
        kind,
        subject: `NHI-${String(i).padStart(16, '0')}`,
        subjectKind: 'finding',
        action: kind,
        at: '2026-11-02T09:00:00.000Z',
        reason: '',
      },
      view: { title: `finding ${i}`, severity: 'high', dueAt: '2026-11-01T09:00:00.000Z', owner: 'team-a' },
    });
    const deliveries = [
      ...Array.from({ length: 12 }, (_, i) => delivery(i, 'sla.breached')),
      delivery(99, 'credential.active'),
    ];
    const digest = buildDigest('c', deliveries, 3, new Date('2026-11-04T09:00:00.000Z'));
    expect(digest.title).toBe('closeloop: 12 overdue, 1 live credential');
    expect(digest.sections.map((s) => [s.kind, s.total, s.lines.length])).toEqual([
      ['sla.breached', 12, MAX_LINES_PER_SECTION],
      ['credential.active', 1, 1],
    ]);
    expect(digest.sections[0]!.lines[0]!.text).toBe(
      'NHI-0000000000000000 [high] finding 0: due 2026-11-01 (3 days overdue); owner team-a; for oncall',
    );
    const text = digestText(digest, { repeat: true });
    expect(text.split('\n')[0]).toMatch(/^Possible repeat: /);
    expect(text).toContain('- … and 2 more');
    expect(text).toContain('3 more notice(s) are queued and follow in the next digest.');
    expect(digest.notices).toHaveLength(13);
  });
});
