import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '@core/clock';
import { createFinding } from '@core/merge';
import type { Finding } from '@core/model';
import { withApprovers, DEFAULT_POLICY } from '@core/policy';
import type { FindingStore } from '@core/ports';
import { anObservation } from '@test/support/factories';

import { handleDecision, principalName, sfnSignaller } from '@functions/lifecycle-api';

const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

/** A one-finding store: enough for the decision rules; the DynamoDB store has its own tests. */
function storeWith(finding: Finding): FindingStore & { current: () => Finding } {
  let current = finding;
  return {
    current: () => current,
    get: async () => current,
    getMany: async () => new Map([[current.id, current]]),
    resolveAliases: async () => new Map(),
    commit: async (writes) => {
      current = writes[0]!.finding;
      return { conflicts: [] };
    },
    list: async () => [current],
    events: async () => [],
    dueTimers: async () => [],
    quarantine: async () => undefined,
    listQuarantine: async () => [],
  };
}

const waiting = (overrides: Partial<Finding>) => ({ ...createFinding(anObservation({ severity: 'high' }), new Date('2026-11-01T00:00:00Z'), 't').finding, owner: 'team-payments', ...overrides });
const event = (resource: string, userArn: string, body?: unknown) =>
  ({ httpMethod: 'POST', resource: `/findings/{id}/${resource}`, pathParameters: { id: waiting({}).id }, body: body ? JSON.stringify(body) : null, requestContext: { identity: { userArn } } }) as unknown as APIGatewayProxyEvent;

describe('lifecycle decisions API (Lambda)', () => {
  const policy = withApprovers(DEFAULT_POLICY, ['bob']);
  const deps = (store: FindingStore) => ({ store, clock: fixedClock('2026-11-02T00:00:00Z'), policy, signaller: sfnSignaller(new SFNClient({ region: 'us-east-1' })) });

  it('names the caller by IAM user or assumed-role session', () => {
    expect(principalName('arn:aws:sts::123456789012:assumed-role/SecurityLead/bob')).toBe('bob');
    expect(principalName('arn:aws:iam::123456789012:user/alice')).toBe('alice');
  });

  it('approves with the stored task token and records who approved', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const store = storeWith(waiting({ status: 'awaiting_approval', lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' } }));
    const response = await handleDecision(event('approve', 'arn:aws:sts::1:assumed-role/Approver/bob'), deps(store));
    expect(response.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-123', output: JSON.stringify({ decision: 'approved', by: 'bob' }) });
    expect(store.current().eventCount).toBe(1);
  });

  it('answers 403 with the reason and resumes nothing when policy refuses', async () => {
    const store = storeWith(waiting({ status: 'awaiting_approval', lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', taskToken: 'token-123' } }));
    const response = await handleDecision(event('approve', 'arn:aws:iam::1:user/mallory'), deps(store));
    expect(response).toMatchObject({ statusCode: 403, body: JSON.stringify({ message: 'mallory does not hold the approver role required to approve high findings' }) });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('answers 400 naming the field of a bad exception request', async () => {
    const store = storeWith(waiting({ lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 't' } }));
    const response = await handleDecision(event('exception', 'arn:aws:iam::1:user/team-payments', { until: 'soon', reason: 'x' }), deps(store));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toMatch(/^until: /);
  });
});
