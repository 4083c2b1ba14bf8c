import { SecretsManagerClient, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { runRotationProtocolStep, ROTATION_STEPS, type RotationEvent } from '@connectors/rotation/protocol';
import { generatedCredentialRotator, httpCredentialTarget } from '@connectors/rotation/generated-credential-rotator';
import { FAILED_STEP_TAG } from '@core/rotation/model';
import axios from 'axios';
import { aRotationWorld } from '@test/support/rotation';
import { sendJson, startHttpServer } from '@test/support/http-server';

type World = ReturnType<typeof aRotationWorld>;
let world: World;
afterEach(() => world?.restore());

const sm = () => new SecretsManagerClient({ region: 'eu-west-1' });
const TOKEN = '0f6d7a4e-1111-4a2b-9c3d-000000000001';

/** Starts a rotation the way Secrets Manager does (an AWSPENDING version without a value), without invoking the Lambda. */
function pendingVersion(w: World, secretArn: string, token = TOKEN) {
  w.sm.find(secretArn).versions.set(token, { id: token, stages: new Set(['AWSPENDING']), created: new Date() });
}

const step = (w: World, secretArn: string, s: RotationEvent['Step'], token = TOKEN) =>
  runRotationProtocolStep(
    { SecretId: secretArn, ClientRequestToken: token, Step: s },
    {
      secretsManager: w.secretsManager,
      rotatorFor: w.rotatorFor,
      log: {
        info: (m, d) => w.logLines.push(JSON.stringify({ m, ...d })),
        warn: (m, d) => w.logLines.push(JSON.stringify({ m, ...d })),
      },
    },
  );

const currentOf = (w: World, arn: string) =>
  JSON.parse(w.sm.valueAt(arn, 'AWSCURRENT')!) as { accessKeyId: string; secretAccessKey: string };

describe('Secrets Manager rotation protocol (stateful Secrets Manager, IAM and STS fakes)', () => {
  it('rotation of an IAM access key: a new, working key becomes AWSCURRENT; the old one stays active for its grace period', async () => {
    world = aRotationWorld();
    const { key: oldKey, secretArn } = world.managedIamUser('payments-ci');
    await sm().send(new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: TOKEN }));

    expect(world.protocolErrors).toEqual([]);
    const current = currentOf(world, secretArn);
    expect(current.accessKeyId).not.toBe(oldKey.AccessKeyId);
    expect(world.sm.stages(secretArn)[TOKEN]).toEqual(['AWSCURRENT']);
    expect(JSON.parse(world.sm.valueAt(secretArn, 'AWSPREVIOUS')!).accessKeyId).toBe(oldKey.AccessKeyId);
    expect(Object.values(world.sm.stages(secretArn)).flat()).not.toContain('AWSPENDING');
    expect(world.iam.keysOf('payments-ci').map((k) => [k.AccessKeyId, k.Status])).toEqual([
      [oldKey.AccessKeyId, 'Active'],
      [current.accessKeyId, 'Active'],
    ]);
  });

  it('rotation retries of every step are idempotent: each step run twice makes one key and one version', async () => {
    world = aRotationWorld();
    const { secretArn } = world.managedIamUser('payments-ci');
    pendingVersion(world, secretArn);
    for (const s of ROTATION_STEPS) {
      await step(world, secretArn, s);
      await step(world, secretArn, s);
    }
    expect(world.iam.keysOf('payments-ci')).toHaveLength(2);
    expect(world.sm.stages(secretArn)[TOKEN]).toEqual(['AWSCURRENT']);
    expect(Object.keys(world.sm.stages(secretArn))).toHaveLength(2);
  });

  it('rotation refuses a secret without rotation enabled or a version that is not AWSPENDING, and returns early when it is already AWSCURRENT', async () => {
    world = aRotationWorld();
    const { secretArn } = world.managedIamUser('payments-ci');
    world.sm.find(secretArn).rotationEnabled = false;
    pendingVersion(world, secretArn);
    await expect(step(world, secretArn, 'createSecret')).rejects.toThrow(
      /rotation is not enabled for secret app\/payments-ci\/access-key/,
    );
    world.sm.find(secretArn).rotationEnabled = true;
    await expect(step(world, secretArn, 'createSecret', 'no-such-version')).rejects.toThrow(
      /has no version no-such-version/,
    );
    world.sm.find(secretArn).versions.get(TOKEN)!.stages.clear();
    world.sm.find(secretArn).versions.get(TOKEN)!.stages.add('SOMETHING');
    await expect(step(world, secretArn, 'createSecret')).rejects.toThrow(/is not AWSPENDING/);
    const currentId = Object.entries(world.sm.stages(secretArn)).find(([, s]) => s.includes('AWSCURRENT'))![0];
    await step(world, secretArn, 'finishSecret', currentId);
    expect(world.iam.keysOf('payments-ci')).toHaveLength(1);
  });

  it('rotation failing in testSecret leaves AWSCURRENT untouched, cleans AWSPENDING, deletes the new key and names the step', async () => {
    world = aRotationWorld();
    const { key: oldKey, secretArn } = world.managedIamUser('payments-ci');
    const before = world.sm.valueAt(secretArn, 'AWSCURRENT');
    world.sts.rejectAll = true;
    await sm().send(new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: TOKEN }));

    expect(world.sm.rotationFailures).toEqual([
      expect.objectContaining({
        step: 'testSecret',
        message: expect.stringMatching(
          /^testSecret failed for secret app\/payments-ci\/access-key: The security token/,
        ),
      }),
    ]);
    expect(world.sm.valueAt(secretArn, 'AWSCURRENT')).toBe(before);
    expect(Object.values(world.sm.stages(secretArn)).flat()).not.toContain('AWSPENDING');
    expect(world.iam.keysOf('payments-ci').map((k) => k.AccessKeyId)).toEqual([oldKey.AccessKeyId]);
    expect(world.sm.find(secretArn).tags.get(FAILED_STEP_TAG)).toBe(`testSecret@${TOKEN}`);

    // The next rotation succeeds and clears the failure tag.
    world.sts.rejectAll = false;
    await sm().send(
      new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: '0f6d7a4e-1111-4a2b-9c3d-000000000002' }),
    );
    expect(currentOf(world, secretArn).accessKeyId).not.toBe(oldKey.AccessKeyId);
    expect(world.sm.find(secretArn).tags.has(FAILED_STEP_TAG)).toBe(false);
  });

  it('two rotations racing: Secrets Manager refuses the second while one is pending; two createSecret invocations for one token leave one key', async () => {
    world = aRotationWorld();
    const { secretArn } = world.managedIamUser('payments-ci');
    pendingVersion(world, secretArn);
    await expect(
      sm().send(
        new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: '0f6d7a4e-1111-4a2b-9c3d-000000000009' }),
      ),
    ).rejects.toThrow(/previous rotation isn't complete/);

    await Promise.all([step(world, secretArn, 'createSecret'), step(world, secretArn, 'createSecret')]);
    const pending = JSON.parse(world.sm.find(secretArn).versions.get(TOKEN)!.value!) as { accessKeyId: string };
    expect(world.iam.keysOf('payments-ci')).toHaveLength(2);
    expect(world.iam.keysOf('payments-ci').map((k) => k.AccessKeyId)).toContain(pending.accessKeyId);
    for (const s of ['setSecret', 'testSecret', 'finishSecret'] as const) await step(world, secretArn, s);
    expect(currentOf(world, secretArn).accessKeyId).toBe(pending.accessKeyId);
  });

  it('rotation under the two-keys limit: an inactive second key is deleted first, an orphan of an interrupted create is removed, an active used key stops it', async () => {
    world = aRotationWorld();
    const { secretArn } = world.managedIamUser('payments-ci');
    const keys = world.iam.keysOf('payments-ci');
    keys.push({
      AccessKeyId: 'AKIAINACTIVE00000001',
      SecretAccessKey: 'x'.repeat(40),
      Status: 'Inactive',
      CreateDate: new Date(Date.now() - 90 * 86400e3),
    });
    await sm().send(new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: TOKEN }));
    expect(world.protocolErrors).toEqual([]);
    expect(world.iam.keysOf('payments-ci').map((k) => k.AccessKeyId)).not.toContain('AKIAINACTIVE00000001');

    // A createSecret that created a key but stopped before storing it: the retry removes that orphan.
    const second = '0f6d7a4e-1111-4a2b-9c3d-000000000003';
    world.iam.keysOf('payments-ci').splice(0, 1); // the old key already deleted after its grace period
    pendingVersion(world, secretArn, second);
    world.sm.faults.set('PutSecretValue', [Object.assign(new Error('connection reset'), { name: 'TimeoutError' })]);
    await expect(step(world, secretArn, 'createSecret', second)).rejects.toThrow(/createSecret failed/);
    expect(world.iam.keysOf('payments-ci')).toHaveLength(1); // discarded on the failed store
    world.iam.keysOf('payments-ci').push({
      AccessKeyId: 'AKIAORPHAN0000000001',
      SecretAccessKey: 'y'.repeat(40),
      Status: 'Active',
      CreateDate: new Date(),
    });
    await step(world, secretArn, 'createSecret', second);
    expect(world.iam.keysOf('payments-ci').map((k) => k.AccessKeyId)).not.toContain('AKIAORPHAN0000000001');
    expect(world.iam.keysOf('payments-ci')).toHaveLength(2);

    // An active, used key that the secret does not hold: refuse, change nothing.
    const third = '0f6d7a4e-1111-4a2b-9c3d-000000000004';
    for (const s of ['setSecret', 'testSecret', 'finishSecret'] as const) await step(world, secretArn, s, second);
    const before = world.iam.keysOf('payments-ci').map((k) => k.AccessKeyId);
    world.iam.keysOf('payments-ci').forEach((k) => (k.lastUsed = new Date()));
    pendingVersion(world, secretArn, third);
    await expect(step(world, secretArn, 'createSecret', third)).rejects.toThrow(
      /IAM user payments-ci already has two access keys and the other one \(key-hmac:[0-9a-f]{16}\) is active/,
    );
    expect(world.iam.keysOf('payments-ci').map((k) => k.AccessKeyId)).toEqual(before);
    expect(world.sm.find(secretArn).tags.get(FAILED_STEP_TAG)).toBe(`createSecret@${third}`);
  });

  it('rotation of a generated credential registers the new value with the HTTP target on 127.0.0.1 and verifies it', async () => {
    const registered: string[] = [];
    const server = await startHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const bearer = (req.headers.authorization ?? '').replace('Bearer ', '');
        if (req.method === 'POST' && req.url === '/keys') {
          if (bearer !== 'initial-api-key-value-000000000000' && !registered.includes(bearer))
            return sendJson(res, 401, { error: 'unknown key' });
          registered.push((JSON.parse(body) as { credential: string }).credential);
          return sendJson(res, 201, { ok: true });
        }
        if (req.method === 'GET' && req.url === '/whoami')
          return sendJson(res, registered.includes(bearer) ? 200 : 401, {});
        sendJson(res, 404, {});
      });
    });
    try {
      const target = httpCredentialTarget(axios.create({ timeout: 5000 }), {
        maxAttempts: 2,
        baseDelayMs: 1,
        maxDelayMs: 1,
        maxWaitMs: 10,
        sleep: async () => undefined,
        now: Date.now,
      });
      world = aRotationWorld({ target });
      const secretArn = world.sm.addSecret({
        name: 'saas/billing-api-key',
        rotator: 'generated_credential',
        value: JSON.stringify({
          value: 'initial-api-key-value-000000000000',
          registerUrl: `${server.base}/keys`,
          verifyUrl: `${server.base}/whoami`,
          length: 48,
        }),
      });
      await sm().send(new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: TOKEN }));
      expect(world.protocolErrors).toEqual([]);
      const current = JSON.parse(world.sm.valueAt(secretArn, 'AWSCURRENT')!) as { value: string; registerUrl: string };
      expect(current.value).toHaveLength(48);
      expect(registered).toEqual([current.value]);
      expect(current.registerUrl).toBe(`${server.base}/keys`);
      expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /keys', 'GET /whoami']);
    } finally {
      await server.close();
    }
  });

  it('rotation never logs, returns or throws a secret value', async () => {
    world = aRotationWorld();
    const { secretArn } = world.managedIamUser('payments-ci');
    await sm().send(new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: TOKEN }));
    world.sts.rejectAll = true;
    await sm().send(
      new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: '0f6d7a4e-1111-4a2b-9c3d-000000000005' }),
    );
    const bad = world.sm.addSecret({
      name: 'broken',
      rotator: 'iam_access_key',
      value: '{"userName":"x","accessKeyId":"not-a-key","secretAccessKey":"sEcReTvAlUe-should-never-show"}',
    });
    pendingVersion(world, bad);
    const parseError = await step(world, bad, 'createSecret').catch((e: Error) => e);
    expect(parseError).toBeInstanceOf(Error);
    expect((parseError as Error).message).toMatch(/"accessKeyId" must be an access key id/);

    const secrets = [...world.allSecretValues(), 'sEcReTvAlUe-should-never-show'];
    expect(world.logLines.length).toBeGreaterThanOrEqual(4);
    const everything = [
      ...world.logLines,
      ...world.protocolErrors,
      (parseError as Error).message,
      ...world.sm.rotationFailures.map((f) => f.message),
    ].join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('rotation of a generated credential without a target only stores the new value', async () => {
    world = aRotationWorld();
    const rotator = generatedCredentialRotator(
      world.secretsManager,
      httpCredentialTarget(axios.create(), {
        maxAttempts: 1,
        baseDelayMs: 1,
        maxDelayMs: 1,
        maxWaitMs: 1,
        sleep: async () => undefined,
        now: Date.now,
      }),
    );
    const next = await rotator.create({ value: 'old-value-0000000000000000' });
    await rotator.set(next, { value: 'old-value-0000000000000000' });
    await rotator.test(next);
    expect(next.value).toHaveLength(40);
    expect(next.value).not.toBe('old-value-0000000000000000');
  });
});
