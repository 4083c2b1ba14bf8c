import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '@core/shared/clock';
import { createFinding } from '@core/finding/merge';
import type { Finding } from '@core/finding/model';
import type { FindingStore, FindingWrite } from '@core/finding/ports';
import { anObservation } from '@test/support/factories';

import { fromHttpApi, fromRestApi, handleDecision } from '@connectors/api/decisions';
import { parsePolicy } from '@core/policy/policy';
import { sfnSignaller } from '@connectors/aws/step-functions';

const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

/** A one-finding store: enough for the decision rules; the DynamoDB store has its own tests. */
function storeWith(finding: Finding): FindingStore & { current: () => Finding; written: () => FindingWrite[] } {
  let current = finding;
  const written: FindingWrite[] = [];
  return {
    current: () => current,
    written: () => written,
    get: async () => current,
    getMany: async () => new Map([[current.id, current]]),
    resolveAliases: async () => new Map(),
    commit: async (writes) => {
      written.push(...writes);
      current = writes[0]!.finding;
      return { conflicts: [] };
    },
    list: async () => [current],
    events: async () => [],
    dueTimers: async () => [],
    async *awaitingLifecycle() {},
    waitingForOwner: async () => [],
    quarantine: async () => undefined,
    listQuarantine: async () => [],
  };
}

const waiting = (overrides: Partial<Finding>) => ({
  ...createFinding(anObservation({ severity: 'high' }), new Date('2026-11-01T00:00:00Z'), 't').finding,
  owner: 'team-payments',
  ...overrides,
});
const ACCOUNT = '123456789012';
const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const MALLORY = `arn:aws:iam::${ACCOUNT}:user/mallory`;
/** The payments team's developers assume this role; the role is the team (the owner). */
const PAYMENTS_DEV = `arn:aws:sts::${ACCOUNT}:assumed-role/payments-dev/jo`;
const event = (resource: string, userArn: string, body?: unknown) =>
  fromRestApi({
    httpMethod: 'POST',
    resource: `/findings/{id}/${resource}`,
    pathParameters: { id: waiting({}).id },
    body: body ? JSON.stringify(body) : null,
    requestContext: { identity: { userArn } },
  } as unknown as APIGatewayProxyEvent);

describe('lifecycle decisions API (Lambda)', () => {
  const policy = parsePolicy(
    {
      principals: [
        { name: 'bob', roles: ['approver', 'security-lead'], identities: [{ iamUser: BOB }] },
        {
          name: 'team-payments',
          roles: ['developer'],
          identities: [{ iamRole: `arn:aws:iam::${ACCOUNT}:role/payments-dev` }],
        },
      ],
    },
    'test policy',
  );
  const deps = (store: FindingStore) => ({
    store,
    clock: fixedClock('2026-11-02T00:00:00Z'),
    policy,
    signaller: sfnSignaller(new SFNClient({ region: 'us-east-1' })),
  });

  it('approves with the stored task token and records who approved', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const store = storeWith(
      waiting({
        status: 'awaiting_approval',
        lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' },
      }),
    );
    const response = await handleDecision(event('approve', BOB), deps(store));
    expect(response.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-123',
      output: JSON.stringify({ decision: 'approved', subject: 'remediation', by: 'bob' }),
    });
    expect(store.current().eventCount).toBe(1);
    expect(store.written()[0]!.events[0]).toMatchObject({ actor: 'bob', actorIdentity: BOB });
  });

  it('answers 403 with the reason and resumes nothing when policy refuses', async () => {
    const store = storeWith(
      waiting({
        status: 'awaiting_approval',
        lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' },
      }),
    );
    const response = await handleDecision(event('approve', MALLORY), deps(store));
    expect(response).toMatchObject({
      statusCode: 403,
      body: JSON.stringify({ message: `${MALLORY} does not hold the approver role required to approve high findings` }),
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('answers 400 naming the field of a bad exception request', async () => {
    const store = storeWith(
      waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
    );
    const response = await handleDecision(
      event('exception', PAYMENTS_DEV, { until: 'soon', reason: 'x' }),
      deps(store),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toMatch(/^until: /);
  });

  describe('who the caller is: an identity nobody can choose for themselves', () => {
    const awaiting = () =>
      storeWith(
        waiting({
          status: 'awaiting_approval',
          lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' },
        }),
      );

    it('refuses a forged session name: any role assumed as "bob" is that role, not bob', async () => {
      const store = awaiting();
      const forged = `arn:aws:sts::${ACCOUNT}:assumed-role/ReadOnly/bob`;
      const response = await handleDecision(event('approve', forged), deps(store));
      expect(response).toMatchObject({
        statusCode: 403,
        body: JSON.stringify({
          message: `arn:aws:iam::${ACCOUNT}:role/ReadOnly does not hold the approver role required to approve high findings`,
        }),
      });
      expect(store.written()).toEqual([]);
      expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it('keeps two people behind one session name apart: the owner role may not approve, the approvers role may', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const approvers = parsePolicy(
        {
          principals: [
            {
              name: 'team-payments',
              roles: ['approver'],
              identities: [{ iamRole: `arn:aws:iam::${ACCOUNT}:role/payments-dev` }],
            },
            {
              name: 'approvers',
              roles: ['approver'],
              identities: [{ iamRole: `arn:aws:iam::${ACCOUNT}:role/approvers` }],
            },
          ],
        },
        'policy.json',
      );
      const exceptionWait = () =>
        storeWith(
          waiting({
            lifecycle: { startedGeneration: 1, waitingAt: 'AwaitExceptionApproval', taskToken: 't' },
            exception: {
              requestedBy: 'team-payments',
              requestedAt: '2026-11-01T00:00:00Z',
              until: '2026-12-01',
              reason: 'r',
            },
          }),
        );
      const own = await handleDecision(
        event('exception/approve', `arn:aws:sts::${ACCOUNT}:assumed-role/payments-dev/jo`),
        { ...deps(exceptionWait()), policy: approvers },
      );
      expect(JSON.parse(own.body)).toEqual({
        message: 'separation of duties: team-payments requested this exception and cannot approve it',
      });
      const store = exceptionWait();
      const other = await handleDecision(
        event('exception/approve', `arn:aws:sts::${ACCOUNT}:assumed-role/approvers/jo`),
        {
          ...deps(store),
          policy: approvers,
        },
      );
      expect(other.statusCode).toBe(200);
      expect(store.current().exception?.approvedBy).toBe('approvers');
    });

    it('maps an IAM Identity Center session to its user and records the full identity in the audit trail', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const store = awaiting();
      const sso = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Approver_0123456789abcdef/alice@acme.example`;
      const withAlice = parsePolicy({ principals: [{ name: 'alice@acme.example', roles: ['approver'] }] }, 'p');
      const response = await handleDecision(event('approve', sso), { ...deps(store), policy: withAlice });
      expect(response.statusCode).toBe(200);
      expect(store.written()[0]!.events[0]).toMatchObject({
        action: 'approval.granted',
        actor: 'alice@acme.example',
        actorIdentity: sso,
      });
    });

    it("names a person behind the IdP's JWT authorizer by the configured claim, and nobody from another issuer", async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const issuer = 'https://login.microsoftonline.com/tenant-1/v2.0';
      const oidcPolicy = parsePolicy(
        {
          principals: [{ name: 'alice@acme.example', roles: ['approver'] }],
          identity: { oidc: { issuer, audience: ['api://closeloop'], principalClaim: 'preferred_username' } },
        },
        'p',
      );
      const httpEvent = (iss: string) =>
        fromHttpApi(
          {
            version: '2.0',
            routeKey: 'POST /findings/{id}/approve',
            pathParameters: { id: waiting({}).id },
            requestContext: {
              http: { method: 'POST' },
              authorizer: {
                jwt: { claims: { iss, sub: 'oid-123', preferred_username: 'alice@acme.example' }, scopes: null },
              },
            },
          } as unknown as Parameters<typeof fromHttpApi>[0],
          oidcPolicy.identity.oidc,
        );
      const store = awaiting();
      expect((await handleDecision(httpEvent(issuer), { ...deps(store), policy: oidcPolicy })).statusCode).toBe(200);
      expect(store.written()[0]!.events[0]).toMatchObject({
        actor: 'alice@acme.example',
        actorIdentity: `oidc:${issuer}#oid-123`,
      });
      const foreign = await handleDecision(httpEvent('https://evil.example'), {
        ...deps(awaiting()),
        policy: oidcPolicy,
      });
      expect(foreign.statusCode).toBe(403);
      expect(JSON.parse(foreign.body).message).toMatch(/^the caller is not identified/);
    });
  });

  describe('text people type (reasons, compensating controls, notes, evidence references)', () => {
    // Shaped like a GitHub token and an AWS key id: what a person pastes into a reason by mistake.
    const pasted = 'ghp_' + 'Zx9'.repeat(12);
    const keyId = 'AKIA' + 'QX7N'.repeat(4);
    const everythingKept = (store: ReturnType<typeof storeWith>) =>
      JSON.stringify({
        writes: store.written(),
        current: store.current(),
        calls: sfn.calls().map((c) => c.args[0].input),
      });

    it('redacts a pasted credential from a rejection reason before it is stored, audited or sent to Step Functions', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const store = storeWith(
        waiting({
          status: 'awaiting_approval',
          lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' },
        }),
      );
      const response = await handleDecision(
        event('reject', BOB, { reason: `  still used by the ${pasted} deploy job  ` }),
        deps(store),
      );
      expect(response.statusCode).toBe(200);
      expect(store.written()[0]!.events.map((e) => e.reason)).toEqual(['still used by the [REDACTED] deploy job']);
      expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
        output: JSON.stringify({
          decision: 'rejected',
          subject: 'remediation',
          by: 'bob',
          reason: 'still used by the [REDACTED] deploy job',
        }),
      });
      expect(everythingKept(store)).not.toContain(pasted);
    });

    it("redacts an exception request's reason and compensating control, on the finding and in its event", async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const store = storeWith(
        waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
      );
      const body = {
        until: '2026-12-01',
        reason: `vendor cannot rotate ${keyId} yet`,
        compensatingControl: `IP allow-list on ${pasted}`,
      };
      expect((await handleDecision(event('exception', PAYMENTS_DEV, body), deps(store))).statusCode).toBe(200);
      expect(store.current().exception).toMatchObject({
        reason: 'vendor cannot rotate [REDACTED] yet',
        compensatingControl: 'IP allow-list on [REDACTED]',
      });
      expect(store.written()[0]!.events[0]).toMatchObject({
        action: 'exception.requested',
        reason: 'vendor cannot rotate [REDACTED] yet',
        data: { compensatingControl: 'IP allow-list on [REDACTED]' },
      });
      expect(everythingKept(store)).not.toMatch(new RegExp(`${pasted}|${keyId}`));
    });

    it('takes a false-positive claim from the owner (POST …/false-positive/claim) and its rejection from an approver, never from the claimant', async () => {
      const store = storeWith(
        waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
      );
      const claimed = await handleDecision(
        event('false-positive/claim', PAYMENTS_DEV, { reason: 'a sample in the docs' }),
        deps(store),
      );
      expect(claimed).toMatchObject({ statusCode: 200 });
      expect(store.current().falsePositiveClaim).toMatchObject({
        claimedBy: 'team-payments',
        reason: 'a sample in the docs',
      });
      expect((await handleDecision(event('false-positive/claim', PAYMENTS_DEV, {}), deps(store))).statusCode).toBe(400);
      const byClaimant = await handleDecision(event('false-positive/reject', PAYMENTS_DEV), deps(store));
      expect(byClaimant.statusCode).toBe(403);
      const rejected = await handleDecision(
        event('false-positive/reject', BOB, { reason: 'it is posted to from CI' }),
        deps(store),
      );
      expect(rejected).toMatchObject({ statusCode: 200 });
      expect(JSON.parse(rejected.body)).toEqual({ message: 'false-positive claim rejected by bob' });
      expect(store.current().falsePositiveClaim).toBeUndefined();
      expect(store.written().flatMap((w) => w.events.map((e) => [e.action, e.actor]))).toEqual([
        ['false_positive.claimed', 'team-payments'],
        ['false_positive.rejected', 'bob'],
      ]);
    });

    it('redacts a false-positive reason in the signal the lifecycle records it from', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const store = storeWith(
        waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
      );
      expect(
        (
          await handleDecision(
            event('false-positive', BOB, { reason: `test fixture, ${pasted} was never issued` }),
            deps(store),
          )
        ).statusCode,
      ).toBe(200);
      expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
        output: JSON.stringify({
          kind: 'false_positive_approved',
          by: 'bob',
          identity: BOB,
          reason: 'test fixture, [REDACTED] was never issued',
        }),
      });
      expect(everythingKept(store)).not.toContain(pasted);
    });

    it('redacts an evidence reference and a resolution note reported with "done"', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const store = storeWith(
        waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
      );
      const body = { note: `deleted ${pasted}`, evidence: { kind: 'key_deactivated', ref: `iam:${keyId}:Inactive` } };
      expect((await handleDecision(event('done', PAYMENTS_DEV, body), deps(store))).statusCode).toBe(200);
      expect(store.current().evidence.map((e) => e.ref)).toEqual([
        'note:deleted [REDACTED]',
        'iam:[REDACTED]:Inactive',
      ]);
      expect(everythingKept(store)).not.toMatch(new RegExp(`${pasted}|${keyId}`));
    });

    it('refuses an over-long or blank reason with 400 naming it, and changes nothing', async () => {
      const store = storeWith(
        waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
      );
      const long = await handleDecision(event('false-positive', BOB, { reason: 'x'.repeat(2001) }), deps(store));
      expect(long).toMatchObject({
        statusCode: 400,
        body: JSON.stringify({ message: 'reason is 2001 characters long; at most 2000 are accepted' }),
      });
      const blank = await handleDecision(
        event('exception', PAYMENTS_DEV, { until: '2026-12-01', reason: '   ' }),
        deps(store),
      );
      expect(blank).toMatchObject({ statusCode: 400, body: JSON.stringify({ message: 'reason must not be empty' }) });
      expect(store.written()).toEqual([]);
      expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });
  });
});
