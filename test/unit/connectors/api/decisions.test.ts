import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '@core/shared/clock';
import { createFinding } from '@core/finding/merge';
import type { Finding } from '@core/finding/model';
import { withApprovers, DEFAULT_POLICY } from '@core/policy/policy';
import type { FindingStore, FindingWrite } from '@core/finding/ports';
import { anObservation } from '@test/support/factories';

import { handleDecision, principalName } from '@connectors/api/decisions';
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
    quarantine: async () => undefined,
    listQuarantine: async () => [],
  };
}

const waiting = (overrides: Partial<Finding>) => ({
  ...createFinding(anObservation({ severity: 'high' }), new Date('2026-11-01T00:00:00Z'), 't').finding,
  owner: 'team-payments',
  ...overrides,
});
const event = (resource: string, userArn: string, body?: unknown) =>
  ({
    httpMethod: 'POST',
    resource: `/findings/{id}/${resource}`,
    pathParameters: { id: waiting({}).id },
    body: body ? JSON.stringify(body) : null,
    requestContext: { identity: { userArn } },
  }) as unknown as APIGatewayProxyEvent;

describe('lifecycle decisions API (Lambda)', () => {
  const policy = withApprovers(DEFAULT_POLICY, ['bob']);
  const deps = (store: FindingStore) => ({
    store,
    clock: fixedClock('2026-11-02T00:00:00Z'),
    policy,
    signaller: sfnSignaller(new SFNClient({ region: 'us-east-1' })),
  });

  it('names the caller by IAM user or assumed-role session', () => {
    expect(principalName('arn:aws:sts::123456789012:assumed-role/SecurityLead/bob')).toBe('bob');
    expect(principalName('arn:aws:iam::123456789012:user/alice')).toBe('alice');
  });

  it('approves with the stored task token and records who approved', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const store = storeWith(
      waiting({
        status: 'awaiting_approval',
        lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' },
      }),
    );
    const response = await handleDecision(event('approve', 'arn:aws:sts::1:assumed-role/Approver/bob'), deps(store));
    expect(response.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-123',
      output: JSON.stringify({ decision: 'approved', subject: 'remediation', by: 'bob' }),
    });
    expect(store.current().eventCount).toBe(1);
  });

  it('answers 403 with the reason and resumes nothing when policy refuses', async () => {
    const store = storeWith(
      waiting({
        status: 'awaiting_approval',
        lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' },
      }),
    );
    const response = await handleDecision(event('approve', 'arn:aws:iam::1:user/mallory'), deps(store));
    expect(response).toMatchObject({
      statusCode: 403,
      body: JSON.stringify({ message: 'mallory does not hold the approver role required to approve high findings' }),
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('answers 400 naming the field of a bad exception request', async () => {
    const store = storeWith(
      waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
    );
    const response = await handleDecision(
      event('exception', 'arn:aws:iam::1:user/team-payments', { until: 'soon', reason: 'x' }),
      deps(store),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toMatch(/^until: /);
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
        event('reject', 'arn:aws:iam::1:user/bob', { reason: `  still used by the ${pasted} deploy job  ` }),
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
      expect(
        (await handleDecision(event('exception', 'arn:aws:iam::1:user/team-payments', body), deps(store))).statusCode,
      ).toBe(200);
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

    it('redacts a false-positive reason in the signal the lifecycle records it from', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});
      const store = storeWith(
        waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }),
      );
      expect(
        (
          await handleDecision(
            event('false-positive', 'arn:aws:iam::1:user/bob', { reason: `test fixture, ${pasted} was never issued` }),
            deps(store),
          )
        ).statusCode,
      ).toBe(200);
      expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
        output: JSON.stringify({
          kind: 'false_positive_approved',
          by: 'bob',
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
      expect(
        (await handleDecision(event('done', 'arn:aws:iam::1:user/team-payments', body), deps(store))).statusCode,
      ).toBe(200);
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
      const long = await handleDecision(
        event('false-positive', 'arn:aws:iam::1:user/bob', { reason: 'x'.repeat(2001) }),
        deps(store),
      );
      expect(long).toMatchObject({
        statusCode: 400,
        body: JSON.stringify({ message: 'reason is 2001 characters long; at most 2000 are accepted' }),
      });
      const blank = await handleDecision(
        event('exception', 'arn:aws:iam::1:user/team-payments', { until: '2026-12-01', reason: '   ' }),
        deps(store),
      );
      expect(blank).toMatchObject({ statusCode: 400, body: JSON.stringify({ message: 'reason must not be empty' }) });
      expect(store.written()).toEqual([]);
      expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });
  });
});
