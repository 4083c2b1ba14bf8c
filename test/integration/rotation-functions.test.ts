import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { fixedClock } from '@core/shared/clock';
import { updateFinding } from '@core/finding/update';
import type { RotationState } from '@core/rotation/model';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { SingleTable } from '@core/store/table';
import { aFreshStore } from '@test/support/dynamo';
import { aGitleaksRecord, TEST_KEY } from '@test/support/factories';
import { aRotationWorld } from '@test/support/rotation';

/**
 * The rotation Lambdas as deployed: each handler module loaded with its environment, building
 * its own SDK clients and reading the deployment key from Secrets Manager, against DynamoDB
 * Local and the stateful Secrets Manager / IAM / STS fakes (Step Functions mocked).
 */
const context = {
  functionName: 'rotation-test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 290_000,
} as Context;
const ROTATION_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:closeloop-secret-rotation';

let world: ReturnType<typeof aRotationWorld>;
let fresh: Awaited<ReturnType<typeof aFreshStore>>;
let handlers: {
  protocol: typeof import('@functions/secret-rotation');
  step: typeof import('@functions/rotation-step');
  events: typeof import('@functions/rotation-events');
  hygiene: typeof import('@functions/credential-hygiene');
};
const sfn = mockClient(SFNClient);
const stdout: string[] = [];

beforeAll(async () => {
  world = aRotationWorld();
  fresh = await aFreshStore();
  const keySecret = world.sm.addSecret({
    name: 'closeloop/deployment-key',
    value: TEST_KEY.toString('hex'),
    rotationEnabled: false,
  });
  Object.assign(process.env, {
    CLOSELOOP_TABLE: fresh.tableName,
    CLOSELOOP_DEPLOYMENT_KEY_SECRET: keySecret,
    CLOSELOOP_ROTATION_STATE_MACHINE: ROTATION_MACHINE,
    CLOSELOOP_LIFECYCLE_STATE_MACHINE: 'arn:aws:states:eu-west-1:123456789012:stateMachine:closeloop-finding-lifecycle',
    AWS_ENDPOINT_URL_DYNAMODB: fresh.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  handlers = {
    protocol: await import('@functions/secret-rotation'),
    step: await import('@functions/rotation-step'),
    events: await import('@functions/rotation-events'),
    hygiene: await import('@functions/credential-hygiene'),
  };
  // Secrets Manager invokes the deployed rotation function for each protocol step.
  world.sm.rotationLambda = (event) => handlers.protocol.handler(event, context);
});

afterAll(() => {
  jest.restoreAllMocks();
  world.restore();
  sfn.restore();
});

beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${ROTATION_MACHINE}:x`, startDate: new Date() });
  sfn.on(SendTaskSuccessCommand).resolves({});
});

describe('rotation Lambdas as deployed (handler modules, their own SDK clients, DynamoDB Local, fakes)', () => {
  it('secret-rotation: Secrets Manager drives createSecret → finishSecret through the handler; no secret value in any log line', async () => {
    const { key, secretArn } = world.managedIamUser('billing-sync');
    await world.secretsManager.send(
      new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: '3a5d6f70-0000-4000-8000-000000000001' }),
    );
    const secret = world.sm.secrets.get(secretArn)!;
    const current = [...secret.versions.values()].find((v) => v.stages.has('AWSCURRENT'))!;
    expect(current.id).toBe('3a5d6f70-0000-4000-8000-000000000001');
    expect(JSON.parse(current.value!)).toMatchObject({ userName: 'billing-sync' });
    expect(JSON.parse(current.value!).accessKeyId).not.toBe(key.AccessKeyId);
    const steps = stdout.map((l) => /"step":"(\w+)"/.exec(l)?.[1]).filter(Boolean);
    expect(steps).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    const logs = stdout.join('');
    for (const value of world.allSecretValues()) expect(logs).not.toContain(value);
    expect(logs).not.toContain(TEST_KEY.toString('hex'));
  });

  it('secret-rotation: a malformed event is refused naming the field, before anything is called', async () => {
    await expect(handlers.protocol.handler({ SecretId: 'arn:x', Step: 'createSecret' }, context)).rejects.toThrow(
      /ClientRequestToken/,
    );
    await expect(
      handlers.protocol.handler({ SecretId: 'arn:x', ClientRequestToken: 't', Step: 'dropSecret' }, context),
    ).rejects.toThrow(/Step/);
  });

  it('rotation-step: plan → start_rotation → check_rotation → deactivate_old_key → verify → record_evidence for a leaked key its managed secret holds', async () => {
    const { key, secretArn } = world.managedIamUser('ledger-export');
    const dir = mkdtempSync(join(tmpdir(), 'closeloop-rotation-fn-'));
    const file = join(dir, 'gitleaks.json');
    writeFileSync(
      file,
      JSON.stringify([
        aGitleaksRecord({ RuleID: 'aws-access-token', Secret: key.AccessKeyId, Match: `key=${key.AccessKeyId}` }),
      ]),
    );
    await ingestReportFiles([file], {
      store: fresh.store,
      clock: fixedClock(new Date().toISOString()),
      hasher: world.hasher,
    });
    const [finding] = (await fresh.store.list()).filter((f) => f.nhiType === 'cloud_access_key');
    const step = (name: string, state: RotationState) =>
      handlers.step.handler({ step: name, state }, context) as Promise<RotationState>;

    let state = await step('plan', {
      findingId: finding!.id,
      generation: 1,
      lifecycle: { signal: { decision: 'approved', by: 'alice' } },
    });
    expect(state.plan).toMatchObject({ action: 'rotate_secret', secretArn, rotator: 'iam_access_key' });
    for (const name of ['start_rotation', 'check_rotation']) state = await step(name, state);
    expect(state.progress).toBe('succeeded');
    for (const name of ['deactivate_old_key', 'verify', 'record_evidence']) state = await step(name, state);
    expect(world.iam.keysOf('ledger-export').find((k) => k.AccessKeyId === key.AccessKeyId)?.Status).toBe('Inactive');
    expect(state.outcome).toMatchObject({ remediation: 'done' });
    const stored = (await fresh.store.get(finding!.id))!;
    expect(stored.evidence.map((e) => [e.kind, e.simulated])).toEqual(
      expect.arrayContaining([
        ['rotation_record', false],
        ['key_deactivated', false],
      ]),
    );
    await expect(handlers.step.handler({ step: 'levitate', state }, context)).rejects.toThrow(/step/);
  });

  it('rotation-events: a RotationSucceeded CloudTrail event is recorded on the managed secret once and starts the retire execution', async () => {
    const { secretArn } = world.managedIamUser('reporting-etl');
    await world.secretsManager.send(
      new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: '3a5d6f70-0000-4000-8000-000000000002' }),
    );
    const event = {
      id: 'eb-1',
      'detail-type': 'AWS Service Event via CloudTrail',
      source: 'aws.secretsmanager',
      detail: {
        eventName: 'RotationSucceeded',
        eventID: 'ct-fn-1',
        eventTime: new Date().toISOString(),
        eventSource: 'secretsmanager.amazonaws.com',
        additionalEventData: { SecretId: secretArn },
      },
    };
    expect(await handlers.events.handler(event, context)).toEqual({ result: 'recorded' });
    expect(await handlers.events.handler(event, context)).toEqual({ result: 'duplicate' });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: ROTATION_MACHINE,
      name: 'retire-3a5d6f70-0000-4000-8000-000000000002',
    });
    const record = await new DynamoManagedSecretStore(new SingleTable(fresh.client, fresh.tableName)).get(secretArn);
    expect(record).toMatchObject({ rotations: 1, lastOutcome: 'succeeded', rotator: 'iam_access_key' });
  });

  it('credential-hygiene: raises NHI1/NHI7 findings; a later run resumes the waiting lifecycle of a deleted key with SendTaskSuccess', async () => {
    const now = Date.now();
    world.iam.now = () => new Date(now - 120 * 86400e3);
    world.iam.addUser('contractor-2025', { lastUsed: null });
    world.iam.now = () => new Date();
    const first = await handlers.hygiene.handler({}, context);
    expect(first).toMatchObject({ rejected: 0, cleared: 0 });
    const raised = (await fresh.store.list()).filter((f) => f.title.includes('contractor-2025'));
    expect(raised.map((f) => f.owaspNhi[0]).sort()).toEqual(['NHI1', 'NHI7']);
    // Its lifecycle waits for the owner (on AWS: a task token in the finding).
    const nhi1 = raised.find((f) => f.owaspNhi[0] === 'NHI1')!;
    await updateFinding(fresh.store, fixedClock(new Date().toISOString()), nhi1.id, (f) => ({
      finding: { ...f, lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 'token-nhi1' } },
      events: [],
    }));

    world.iam.users.set('contractor-2025', []);
    const second = await handlers.hygiene.handler({}, context);
    expect(second).toMatchObject({ rejected: 0, cleared: 1 });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-nhi1',
      output: JSON.stringify({ kind: 'fixed', by: 'closeloop:credential-hygiene' }),
    });
    expect((await fresh.store.get(nhi1.id))!.evidence).toEqual([
      expect.objectContaining({ kind: 'key_deactivated', recordedBy: 'closeloop:credential-hygiene' }),
    ]);
  });
});
