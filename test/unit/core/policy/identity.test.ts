import { ConfigurationError, RefusedError } from '@core/shared/errors';
import { parseAwsPrincipal, resolveActor, type Caller } from '@core/policy/identity';
import { DEFAULT_POLICY, parsePolicy } from '@core/policy/policy';

const ACCOUNT = '123456789012';
const aws = (arn: string): Caller => ({ kind: 'aws', arn });
const session = (role: string, name: string) => aws(`arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`);

describe('principals bound to identities nobody can choose for themselves', () => {
  const policy = parsePolicy(
    {
      principals: [
        { name: 'alice', roles: ['security-lead'], identities: [{ identityCenter: 'alice@acme.example' }] },
        { name: 'bob', roles: ['approver'], identities: [{ iamUser: `arn:aws:iam::${ACCOUNT}:user/ops/bob` }] },
        { name: 'ci', roles: ['automation'], identities: [{ iamRole: `arn:aws:iam::${ACCOUNT}:role/ci/deployer` }] },
        {
          name: 'carol',
          roles: ['approver'],
          identities: [{ iamRole: `arn:aws:iam::${ACCOUNT}:role/break-glass`, session: 'carol' }],
        },
        { name: 'dave', roles: ['approver'], identities: [{ oidc: '00u1abcd', issuer: 'https://acme.okta.com' }] },
        { name: 'erin', roles: ['approver'], identities: [{ jira: '712020:erin' }, { servicenow: 'erin.s' }] },
      ],
      identity: { sessionPinningRoles: [`arn:aws:iam::${ACCOUNT}:role/break-glass`] },
    },
    'policy.json',
  );

  it('never takes a session name the caller chose as a person: the role acts, not "alice"', () => {
    expect(resolveActor(session('ReadOnly', 'alice'), policy)).toEqual({
      name: `arn:aws:iam::${ACCOUNT}:role/ReadOnly`,
      identity: `arn:aws:sts::${ACCOUNT}:assumed-role/ReadOnly/alice`,
    });
    // A bound session of a pinning role, forged on another role, is that other role.
    expect(resolveActor(session('ReadOnly', 'carol'), policy).name).toBe(`arn:aws:iam::${ACCOUNT}:role/ReadOnly`);
  });

  it('makes the same session name under two roles two principals', () => {
    const a = resolveActor(session('payments-dev', 'jo'), policy);
    const b = resolveActor(session('ops-admin', 'jo'), policy);
    expect(a.name).not.toBe(b.name);
    expect([a.name, b.name]).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/payments-dev`,
      `arn:aws:iam::${ACCOUNT}:role/ops-admin`,
    ]);
  });

  it('maps an IAM Identity Center session to its user, whichever permission set it came through', () => {
    for (const role of ['AWSReservedSSO_Approver_0123456789abcdef', 'AWSReservedSSO_ReadOnly_fedcba9876543210'])
      expect(resolveActor(session(role, 'alice@acme.example'), policy).name).toBe('alice');
    // An Identity Center user nobody bound is still that person, by the name AWS set.
    expect(resolveActor(session('AWSReservedSSO_Approver_0123456789abcdef', 'zoe@acme.example'), policy).name).toBe(
      'zoe@acme.example',
    );
    // Unless the policy does not trust Identity Center session names.
    const untrusting = parsePolicy({ identity: { identityCenter: false } }, 'policy.json');
    expect(resolveActor(session('AWSReservedSSO_Approver_0123456789abcdef', 'zoe@acme.example'), untrusting).name).toBe(
      `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_Approver_0123456789abcdef`,
    );
  });

  it('binds IAM users by ARN, roles as authorities, pinned sessions by name, IdP subjects and ticket users', () => {
    expect(resolveActor(aws(`arn:aws:iam::${ACCOUNT}:user/ops/bob`), policy).name).toBe('bob');
    // Another account's bob, or a bob elsewhere in the path, is not bob.
    expect(resolveActor(aws(`arn:aws:iam::210987654321:user/ops/bob`), policy).name).toBe(
      'arn:aws:iam::210987654321:user/ops/bob',
    );
    expect(resolveActor(aws(`arn:aws:iam::${ACCOUNT}:user/bob`), policy).name).toBe(`arn:aws:iam::${ACCOUNT}:user/bob`);
    // The role is the authority, whatever the session is called (the assumed-role ARN has no path).
    expect(resolveActor(session('deployer', 'anything'), policy).name).toBe('ci');
    expect(resolveActor(session('break-glass', 'carol'), policy).name).toBe('carol');
    // The pinning role's other sessions are their own (pinned) names.
    expect(resolveActor(session('break-glass', 'frank'), policy).name).toBe('frank');
    const oidc = (issuer: string): Caller => ({ kind: 'oidc', issuer, subject: '00u1abcd', claims: {} });
    expect(resolveActor(oidc('https://acme.okta.com'), policy)).toEqual({
      name: 'dave',
      identity: 'oidc:https://acme.okta.com#00u1abcd',
    });
    expect(resolveActor(oidc('https://other.okta.com'), policy).name).toBe('00u1abcd');
    expect(resolveActor({ kind: 'ticket', system: 'jira', user: '712020:erin' }, policy)).toEqual({
      name: 'erin',
      identity: 'jira:712020:erin',
    });
    expect(resolveActor({ kind: 'ticket', system: 'servicenow', user: 'erin.s' }, policy).name).toBe('erin');
    expect(resolveActor({ kind: 'ticket', system: 'jira', user: '712020:zed' }, policy).name).toBe('jira:712020:zed');
    expect(resolveActor({ kind: 'ticket', system: 'servicenow', user: 'zed' }, policy).name).toBe('servicenow:zed');
  });

  it('names an IdP user by the configured claim, and refuses a token without it', () => {
    const withClaim = parsePolicy(
      {
        identity: {
          oidc: {
            issuer: 'https://login.microsoftonline.com/t1/v2.0',
            audience: ['api://closeloop'],
            principalClaim: 'preferred_username',
          },
        },
      },
      'policy.json',
    );
    const caller = (claims: Record<string, unknown>): Caller => ({
      kind: 'oidc',
      issuer: 'https://login.microsoftonline.com/t1/v2.0',
      subject: 'AAAAbbbbCCCC',
      claims,
    });
    expect(resolveActor(caller({ preferred_username: 'alice@acme.example' }), withClaim)).toEqual({
      name: 'alice@acme.example',
      identity: 'oidc:https://login.microsoftonline.com/t1/v2.0#AAAAbbbbCCCC',
    });
    expect(() => resolveActor(caller({}), withClaim)).toThrow(
      new RefusedError('the identity provider\'s token has no "preferred_username" claim to name the principal'),
    );
  });

  it('refuses a policy that binds a session name the caller chooses', () => {
    expect(() =>
      parsePolicy(
        {
          principals: [
            {
              name: 'alice',
              roles: ['approver'],
              identities: [{ iamRole: `arn:aws:iam::${ACCOUNT}:role/Approver`, session: 'alice' }],
            },
          ],
        },
        'policy.json',
      ),
    ).toThrow(
      new ConfigurationError(
        `policy.json: "principals[0].identities[0].session": the caller chooses the session names of arn:aws:iam::${ACCOUNT}:role/Approver; bind the role without "session", or list it in identity.sessionPinningRoles once its trust policy pins them`,
      ),
    );
    expect(() =>
      parsePolicy({ principals: [{ name: 'a', roles: ['x'], identities: [{ iamUser: 'bob' }] }] }, 'policy.json'),
    ).toThrow(
      'policy.json: "principals[0].identities[0].iamUser" must be an IAM user ARN such as arn:aws:iam::123456789012:user/alice, got "bob"',
    );
    expect(() =>
      parsePolicy(
        { principals: [{ name: 'a', roles: ['x'], identities: [{ jira: 'x', servicenow: 'y' }] }] },
        'policy.json',
      ),
    ).toThrow(
      'must name exactly one of iamUser, iamRole, identityCenter, oidc, jira, jiraDc, servicenow (got jira, servicenow)',
    );
  });

  it('reads the ARNs API Gateway passes', () => {
    expect(parseAwsPrincipal(`arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/R/s`)).toMatchObject({
      type: 'role_session',
      roleArn: `arn:aws-us-gov:iam::${ACCOUNT}:role/R`,
      session: 's',
    });
    expect(parseAwsPrincipal(`arn:aws:iam::${ACCOUNT}:root`)).toEqual({
      type: 'other',
      arn: `arn:aws:iam::${ACCOUNT}:root`,
    });
    expect(DEFAULT_POLICY.identity).toEqual({ sessionPinningRoles: [], identityCenter: true });
  });
});
