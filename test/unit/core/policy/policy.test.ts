import { ConfigurationError } from '@core/shared/errors';
import {
  DEFAULT_POLICY,
  dueDateFor,
  evidenceRequired,
  isPreAuthorized,
  latestExceptionEnd,
  mayApprove,
  parsePolicy,
  withApprovers,
} from '@core/policy/policy';

const t0 = new Date('2026-11-01T00:00:00.000Z');

describe('remediation policy', () => {
  it('ships the documented defaults', () => {
    expect(DEFAULT_POLICY.slaDays).toEqual({ critical: 2, high: 7, medium: 30, low: 90, info: 180 });
    expect(DEFAULT_POLICY.maxExceptionDays).toEqual({ critical: 90, high: 90, medium: 180, low: 180, info: 180 });
    expect(dueDateFor('critical', t0, DEFAULT_POLICY).toISOString()).toBe('2026-11-03T00:00:00.000Z');
    expect(latestExceptionEnd('high', t0, DEFAULT_POLICY).toISOString()).toBe('2027-01-30T00:00:00.000Z');
  });

  it('fills in what a policy file leaves out', () => {
    const policy = parsePolicy({ slaDays: { critical: 1 } }, 'policy.json');
    expect(policy.slaDays).toEqual({ critical: 1, high: 7, medium: 30, low: 90, info: 180 });
    expect(policy.approvalTimeoutHours).toBe(72);
  });

  it('names the field of a bad policy and never allows more than a year of accepted risk', () => {
    expect(() => parsePolicy({ slaDays: { critical: 'two' } }, 'policy.json')).toThrow(
      new ConfigurationError('policy.json: "slaDays.critical" must be a number, got "two"'),
    );
    expect(() => parsePolicy({ maxExceptionDays: { low: 400 } }, 'policy.json')).toThrow(
      new ConfigurationError('policy.json: "maxExceptionDays.low" must be at most 365, got 400'),
    );
  });

  it('pre-authorizes rotation and containment of an active, critical cloud key but not of an unverified one', () => {
    expect(
      isPreAuthorized(
        'rotate',
        { nhiType: 'cloud_access_key', severity: 'critical', validity: 'active' },
        DEFAULT_POLICY,
      ),
    ).toBe(true);
    expect(
      isPreAuthorized(
        'rotate',
        { nhiType: 'cloud_access_key', severity: 'critical', validity: 'unknown' },
        DEFAULT_POLICY,
      ),
    ).toBe(false);
    // A verified leaked key is contained at once (deactivated), never after a 72 h approval wait.
    expect(
      isPreAuthorized(
        'deactivate_key',
        { nhiType: 'cloud_access_key', severity: 'critical', validity: 'active' },
        DEFAULT_POLICY,
      ),
    ).toBe(true);
    expect(
      isPreAuthorized(
        'deactivate_key',
        { nhiType: 'cloud_access_key', severity: 'critical', validity: 'unknown' },
        DEFAULT_POLICY,
      ),
    ).toBe(false);
    expect(DEFAULT_POLICY.rotation.containment).toBe('deactivate');
  });

  it('names the evidence that closes each finding type', () => {
    expect(evidenceRequired('cloud_access_key', DEFAULT_POLICY)).toEqual([
      'rotation_record',
      'key_deactivated',
      'secret_revoked_at_source',
    ]);
    expect(evidenceRequired('webhook_url', DEFAULT_POLICY)).toEqual(DEFAULT_POLICY.defaultEvidence);
  });
});

describe('separation of duties', () => {
  const policy = withApprovers(DEFAULT_POLICY, ['alice', 'bob']);
  const finding = { id: 'NHI-0000000000000001', owner: 'carol', severity: 'critical' as const };

  it("lets an approver with the role approve someone else's request", () => {
    expect(mayApprove({ approver: 'alice', requester: 'carol', finding, kind: 'exception' }, policy)).toEqual({
      allowed: true,
    });
  });

  it('refuses approving your own request', () => {
    expect(mayApprove({ approver: 'alice', requester: 'alice', finding, kind: 'approval' }, policy)).toEqual({
      allowed: false,
      reason: 'separation of duties: alice requested this approval and cannot approve it',
    });
  });

  it("refuses an owner approving their own finding's exception, even with the role", () => {
    const owned = withApprovers(policy, ['carol']);
    expect(mayApprove({ approver: 'carol', requester: 'dave', finding, kind: 'exception' }, owned)).toEqual({
      allowed: false,
      reason: 'separation of duties: carol owns NHI-0000000000000001 and cannot approve its exception',
    });
  });

  it('refuses someone without the role the severity requires', () => {
    expect(mayApprove({ approver: 'mallory', requester: 'carol', finding, kind: 'false_positive' }, policy)).toEqual({
      allowed: false,
      reason: 'mallory does not hold the security-lead role required to approve critical findings',
    });
  });
});
