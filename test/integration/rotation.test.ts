import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { verifyAuditTrail } from '@core/audit/verify';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readCredentialInventory } from '@connectors/aws/credential-inventory';
import { verifyChain } from '@core/audit/chain';
import { ingestRecords } from '@core/ingest/ingest';
import { hygieneRecords } from '@core/rotation/hygiene';
import { runCredentialHygiene } from '@core/rotation/hygiene-run';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { recordRotationEvent } from '@connectors/aws/rotation-events';
import { awsSecretCatalogue } from '@connectors/aws/secrets-catalogue';
import { stepFunctionsRetirements } from '@connectors/aws/step-functions';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { dryRunCredentialControl } from '@connectors/aws/dry-run-credential-control';
import { fixedClock } from '@core/shared/clock';
import { DEFAULT_POLICY, type Policy } from '@core/policy/policy';
import { FAILED_STEP_TAG } from '@core/rotation/model';
import type { CredentialControl } from '@core/rotation/ports';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { SingleTable } from '@core/store/table';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { LocalRotationRunner } from '@local/rotation-runner';
import { WriteBehindFindingStore } from '@core/finding/write-behind';
import { aGitleaksRecord } from '@test/support/factories';
import { aFreshStore } from '@test/support/dynamo';
import { aRotationWorld } from '@test/support/rotation';
import { localDecisions } from '@test/support/local-decisions';

const clock = fixedClock('2026-11-20T09:00:00.000Z');
const PRE_AUTHORIZED: Policy = {
  ...DEFAULT_POLICY,
  preAuthorized: [
    {
      action: 'rotate',
      nhiTypes: ['cloud_access_key', 'api_key'],
      severities: ['critical', 'high', 'medium', 'low', 'info'],
      onlyWhenActive: false,
    },
  ],
  rotation: { ...DEFAULT_POLICY.rotation, maxChecks: 3 },
};

type World = ReturnType<typeof aRotationWorld>;
let world: World | undefined;
afterEach(() => world?.restore());

/** A finding for a leaked value (gitleaks found it in a repository), its lifecycle and rotation runners. */
async function leakedInRepo(
  secret: string,
  options: { policy?: Policy; control: CredentialControl; ruleId?: string; verified?: boolean },
) {
  const { store, client, tableName } = await aFreshStore();
  const dir = mkdtempSync(join(tmpdir(), 'closeloop-rotation-'));
  // gitleaks finds it; TruffleHog finds it and verifies it against AWS (validity active).
  const file = join(dir, options.verified ? 'trufflehog.jsonl' : 'gitleaks.json');
  writeFileSync(
    file,
    options.verified
      ? `${JSON.stringify({
          SourceMetadata: {
            Data: {
              Git: { commit: 'c0ffee', file: 'deploy/ci.env', repository: 'https://github.com/acme/api.git', line: 3 },
            },
          },
          DetectorName: 'AWS',
          Verified: true,
          Raw: secret,
          Redacted: secret,
        })}\n`
      : JSON.stringify([
          aGitleaksRecord({ RuleID: options.ruleId ?? 'aws-access-token', Secret: secret, Match: `key=${secret}` }),
        ]),
  );
  const hasher = world?.hasher ?? (await import('@test/support/factories')).aHasher();
  await ingestReportFiles([file], { store, clock, hasher });
  const [finding] = await store.list();
  const policy = options.policy ?? PRE_AUTHORIZED;
  // Wired as the local hub wires them: a lifecycle's start is held and written once, and every
  // rotation step that may act on AWS commits what it holds first.
  const held = new WriteBehindFindingStore(store);
  const rotations = new LocalRotationRunner({ store: held, clock, policy, control: options.control });
  const lifecycles = new LocalLifecycleRunner({ store: held, clock, policy, remediation: rotations });
  const actions = async () => (await store.events(finding!.id)).map((e) => e.action);
  const tableText = async () => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName }))).Items);
  return { store, client, tableName, finding: finding!, rotations, lifecycles, actions, tableText };
}

describe('secret rotation machine (statemachines/secret-rotation.asl.json on the local runner, DynamoDB Local, Secrets Manager/IAM/STS fakes)', () => {
  it('rotation of the managed secret holding a leaked IAM key: the key deactivated before the rotation (no grace period), new AWSCURRENT, old key deleted, evidence closes the finding', async () => {
    world = aRotationWorld();
    const { key, secretArn } = world.managedIamUser('payments-ci');
    const ctx = await leakedInRepo(key.AccessKeyId, { control: world.control });
    expect(ctx.finding.nhiType).toBe('cloud_access_key');

    const run = await ctx.lifecycles.start(ctx.finding);
    expect(run).toMatchObject({ outcome: 'succeeded' });
    expect(run!.path).toEqual([
      'Enter',
      'Triage',
      'Route',
      'Remediate',
      'RemediationOutcome',
      'Verify',
      'Verified',
      'Resolve',
      'Done',
    ]);

    const current = JSON.parse(world.sm.valueAt(secretArn, 'AWSCURRENT')!) as { accessKeyId: string };
    expect(current.accessKeyId).not.toBe(key.AccessKeyId);
    expect(Object.values(world.sm.stages(secretArn)).flat()).not.toContain('AWSPENDING');
    // The grace period and the deletion delay are not waited locally: the old key is gone.
    expect(world.iam.keysOf('payments-ci').map((k) => k.AccessKeyId)).toEqual([current.accessKeyId]);

    const after = (await ctx.store.get(ctx.finding.id))!;
    expect(after.status).toBe('resolved');
    expect(after.evidence.map((e) => [e.kind, e.simulated])).toEqual([
      ['key_deactivated', false],
      ['rotation_record', false],
    ]);
    expect((await ctx.actions()).filter((a) => a.startsWith('key.') || a.startsWith('remediation.'))).toEqual([
      'remediation.started',
      'key.contained',
      'remediation.completed',
      'key.deleted',
    ]);
    const completed = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'remediation.completed')!;
    expect(completed.evidenceRef).toMatch(new RegExp(`^${secretArn}#version:[0-9a-f-]{36}$`));
    // Contained first: the leaked key is inactive before RotateSecret is called, and not deactivated twice.
    const calls = completed.data!.calls as string[];
    const deactivation = calls.findIndex((c) =>
      /^iam:UpdateAccessKey user=payments-ci key-hmac=[0-9a-f]{16} Status=Inactive$/.test(c),
    );
    expect(deactivation).toBeGreaterThanOrEqual(0);
    expect(deactivation).toBeLessThan(calls.findIndex((c) => c.startsWith('secretsmanager:RotateSecret ')));
    expect(calls.filter((c) => c.startsWith('iam:UpdateAccessKey'))).toHaveLength(1);
    const contained = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'key.contained')!;
    expect(contained.reason).toBe(
      'the leaked key of payments-ci is deactivated before the rotation of app/payments-ci/access-key replaces it',
    );

    // Nothing secret in the table: no secret access key, and no access key id either (keys are named by HMAC).
    const table = await ctx.tableText();
    for (const secret of world.allSecretValues()) expect(table).not.toContain(secret);
    for (const id of [key.AccessKeyId, current.accessKeyId]) expect(table).not.toContain(id);
  });

  it('rotation failing in testSecret: AWSCURRENT unchanged, AWSPENDING cleaned, an escalation naming the step, and the owner fixes it', async () => {
    world = aRotationWorld();
    const { key, secretArn } = world.managedIamUser('payments-ci');
    const before = world.sm.valueAt(secretArn, 'AWSCURRENT');
    world.sts.rejectAll = true;
    const ctx = await leakedInRepo(key.AccessKeyId, { control: world.control });

    const run = await ctx.lifecycles.start(ctx.finding);
    expect(run).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(world.sm.valueAt(secretArn, 'AWSCURRENT')).toBe(before);
    expect(Object.values(world.sm.stages(secretArn)).flat()).not.toContain('AWSPENDING');
    // The leaked key was contained before the rotation, and stays contained when the rotation fails.
    expect(world.iam.keysOf('payments-ci').map((k) => [k.AccessKeyId, k.Status])).toEqual([
      [key.AccessKeyId, 'Inactive'],
    ]);

    const failed = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'remediation.failed')!;
    expect(failed.reason).toMatch(
      /^rotation failed at Secrets Manager testSecret: the rotation Lambda reported a failure; the secret stays on its previous AWSCURRENT version; the leaked key stays deactivated; escalated to identity-programme/,
    );
    expect(failed.data).toMatchObject({ failedStep: 'Secrets Manager testSecret', escalatedTo: 'identity-programme' });
    expect((await ctx.store.get(ctx.finding.id))!).toMatchObject({
      status: 'open',
      lifecycle: { waitingAt: 'AwaitOwnerFix' },
    });
    // The owner hears of it on the ticket.
    const work = await new DynamoTicketStore(new SingleTable(ctx.client, ctx.tableName)).pendingWork(100);
    expect(work.map((w) => w.action)).toEqual(expect.arrayContaining(['remediation.started', 'remediation.failed']));
    expect(world.sm.find(secretArn).tags.get(FAILED_STEP_TAG)).toMatch(/^testSecret@/);
  });

  it("rotation that never finishes (AWSPENDING stays) fails after the policy's bounded checks, naming CheckRotation, and cleans AWSPENDING", async () => {
    world = aRotationWorld();
    const { key, secretArn } = world.managedIamUser('payments-ci');
    world.sm.rotationLambda = async () => undefined; // the Lambda never gets anywhere
    const ctx = await leakedInRepo(key.AccessKeyId, { control: world.control });
    const run = await ctx.rotations.run({
      findingId: ctx.finding.id,
      generation: 1,
      lifecycle: { findingId: ctx.finding.id, generation: 1, resumeAt: 'decide' },
      lifecycleTaskToken: 'token-1',
    });
    expect(run.path.filter((s) => s === 'CheckRotation')).toHaveLength(3);
    expect(run.outcome).toMatchObject({
      remediation: 'failed',
      failedStep: 'CheckRotation (still AWSPENDING after 3 checks)',
    });
    expect(Object.values(world.sm.stages(secretArn)).flat()).not.toContain('AWSPENDING');
  });

  it('a pending value it may not read is a failure, never taken for "nothing pending": AWSPENDING stays for the retry', async () => {
    world = aRotationWorld();
    const { secretArn } = world.managedIamUser('payments-ci');
    world.sm.rotationLambda = async () => undefined; // the rotation stays AWSPENDING
    const token = '3a5d6f70-0000-4000-8000-0000000000aa';
    await world.control.startRotation(secretArn, token);
    const denied = Object.assign(new Error('not authorized to perform secretsmanager:GetSecretValue'), {
      name: 'AccessDeniedException',
    });
    world.sm.faults.set('GetSecretValue', [denied]);

    await expect(world.control.abandonRotation(secretArn, token)).rejects.toThrow(/not authorized/);
    expect(world.sm.stages(secretArn)[token]).toContain('AWSPENDING');
  });

  it('a start held in memory is committed before the first call that acts on AWS: the key is deactivated only once triage and plan are stored', async () => {
    world = aRotationWorld();
    const { key } = world.managedIamUser('payments-ci');
    const ctx = await leakedInRepo(key.AccessKeyId, { control: world.control });
    const stored: string[][] = [];
    const deactivate = world.control.deactivateAccessKey.bind(world.control);
    jest.spyOn(world.control, 'deactivateAccessKey').mockImplementation(async (k) => {
      stored.push((await ctx.store.events(ctx.finding.id)).map((e) => e.action));
      return deactivate(k);
    });
    expect(await ctx.lifecycles.start(ctx.finding)).toMatchObject({ outcome: 'succeeded' });
    expect(stored.length).toBeGreaterThan(0);
    expect(stored[0]).toEqual(expect.arrayContaining(['lifecycle.started', 'decision.made', 'remediation.started']));
    expect(stored[0]).not.toContain('key.contained');
  });

  it('containment of a leaked IAM key no secret manages: approval first, then the key is deactivated and a replacement stored in a new secret', async () => {
    world = aRotationWorld();
    const leaked = world.iam.addUser('legacy-batch');
    const ctx = await leakedInRepo(leaked.AccessKeyId, {
      control: world.control,
      policy: { ...PRE_AUTHORIZED, principals: [{ name: 'alice', roles: ['approver', 'security-lead'] }] },
    });

    const first = await ctx.lifecycles.start(ctx.finding);
    expect(first).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitApproval' });
    expect(first!.path.slice(3, 6)).toEqual(['Remediate', 'RemediationOutcome', 'AwaitApproval']);
    expect(world.iam.keysOf('legacy-batch')[0]!.Status).toBe('Active');

    const approved = await ctx.lifecycles.resume((await ctx.store.get(ctx.finding.id))!, 'approval_decided', {
      signal: { decision: 'approved', by: 'alice' },
    });
    expect(approved.outcome).toBe('succeeded');
    // Deactivated, then (locally without the deletion delay) deleted; the replacement is active.
    const keys = world.iam.keysOf('legacy-batch');
    expect(keys.map((k) => k.AccessKeyId)).not.toContain(leaked.AccessKeyId);
    expect(keys.map((k) => k.Status)).toEqual(['Active']);
    const replacement = [...world.sm.secrets.values()].find(
      (s) => s.name === `closeloop.replacement-key.legacy-batch.${ctx.finding.id}`,
    )!;
    expect(JSON.parse(world.sm.valueAt(replacement.arn, 'AWSCURRENT')!)).toMatchObject({
      userName: 'legacy-batch',
      accessKeyId: keys[0]!.AccessKeyId,
    });
    expect(await ctx.actions()).toEqual(
      expect.arrayContaining([
        'approval.requested',
        'remediation.needs_approval',
        'remediation.started',
        'key.contained',
        'finding.resolved',
        'key.deleted',
      ]),
    );
    expect(replacement.tags.get('closeloop:rotator')).toBe('iam_access_key');

    const contained = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'key.contained')!;
    expect(contained.reason).toContain(`a replacement key is in Secrets Manager secret ${replacement.name}`);
    expect(contained.data).toMatchObject({ replacementSecret: replacement.arn });
    expect((await ctx.store.get(ctx.finding.id))!.status).toBe('resolved');
    const work = await new DynamoTicketStore(new SingleTable(ctx.client, ctx.tableName)).pendingWork(100);
    expect(work.find((w) => w.action === 'key.contained')!.text).toContain(replacement.name);
  });

  it('quarantine containment: AWSCompromisedKeyQuarantineV3 on the user until the rotation replaced the key, then the key deactivated and the quarantine lifted', async () => {
    world = aRotationWorld();
    const { key } = world.managedIamUser('payments-ci');
    const policy: Policy = { ...PRE_AUTHORIZED, rotation: { ...PRE_AUTHORIZED.rotation, containment: 'quarantine' } };
    const ctx = await leakedInRepo(key.AccessKeyId, { control: world.control, policy });
    expect(await ctx.lifecycles.start(ctx.finding)).toMatchObject({ outcome: 'succeeded' });
    const quarantine = 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3';
    const changes = world.iam.changes.map((c) => c.change);
    expect(changes[0]).toBe(`payments-ci attached ${quarantine}`);
    expect(changes.slice(1)).toEqual([
      `payments-ci key ${key.AccessKeyId} Inactive`,
      `payments-ci detached ${quarantine}`,
    ]);
    // The rotation ran while the quarantine held: the new key was created between attach and detach.
    expect(world.iam.attachedPolicies.get('payments-ci')).toEqual(new Set());
    expect((await ctx.actions()).filter((a) => a.startsWith('key.'))).toEqual([
      'key.quarantined',
      'key.deactivated',
      'key.quarantine_lifted',
      'key.deleted',
    ]);
    const deactivated = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'key.deactivated')!;
    expect(deactivated.reason).toBe(
      'the rotated-out key of payments-ci is inactive at once: it was exposed, so it gets no grace period',
    );
    expect((await ctx.store.get(ctx.finding.id))!.status).toBe('resolved');
  });

  it('quarantine containment that the rotation cannot finish keeps the quarantine on and says so', async () => {
    world = aRotationWorld();
    const { key } = world.managedIamUser('payments-ci');
    world.sts.rejectAll = true;
    const policy: Policy = { ...PRE_AUTHORIZED, rotation: { ...PRE_AUTHORIZED.rotation, containment: 'quarantine' } };
    const ctx = await leakedInRepo(key.AccessKeyId, { control: world.control, policy });
    expect(await ctx.lifecycles.start(ctx.finding)).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(world.iam.attachedPolicies.get('payments-ci')).toEqual(
      new Set(['arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3']),
    );
    const failed = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'remediation.failed')!;
    expect(failed.reason).toContain(
      'the leaked key stays contained (payments-ci keeps the quarantine policy until the key is replaced)',
    );
  });

  it('under the default policy, a verified leaked key no secret manages is contained at once: no approval asked', async () => {
    world = aRotationWorld();
    const leaked = world.iam.addUser('legacy-batch');
    const ctx = await leakedInRepo(leaked.AccessKeyId, {
      control: world.control,
      policy: DEFAULT_POLICY,
      verified: true,
    });
    expect(ctx.finding).toMatchObject({ validity: 'active', severity: 'critical' });
    const run = await ctx.lifecycles.start(ctx.finding);
    expect(run!.path).not.toContain('AwaitApproval');
    expect(await ctx.actions()).not.toContain('approval.requested');
    expect(world.iam.changes[0]!.change).toBe(`legacy-batch key ${leaked.AccessKeyId} Inactive`);
    expect(await ctx.actions()).toEqual(expect.arrayContaining(['key.contained', 'finding.resolved']));
  });

  it('rotation dry run (no AWS endpoint): records the plan of calls, labelled simulated, and never closes the finding', async () => {
    world = undefined;
    const ctx = await leakedInRepo('AKIAFAKEFAKEFAKE0001', { control: dryRunCredentialControl() });
    const run = await ctx.lifecycles.start(ctx.finding);
    expect(run).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(run!.path.slice(3)).toEqual(['Remediate', 'RemediationOutcome', 'Verify', 'Verified', 'AwaitOwnerFix']);
    const after = (await ctx.store.get(ctx.finding.id))!;
    expect(after.status).toBe('open');
    expect(after.evidence.every((e) => e.simulated)).toBe(true);
    const completed = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'remediation.completed')!;
    expect(completed.reason).toBe('rotation simulated (dry run): not closing evidence');
    expect(completed.data!.calls).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[dry run\] secretsmanager:RotateSecret/),
        expect.stringMatching(/^\[dry run\] iam:UpdateAccessKey/),
      ]),
    );
    expect(await ctx.actions()).toContain('verification.failed');
  });

  it('a credential nothing can rotate falls back to the owner with the reason', async () => {
    world = aRotationWorld();
    const ctx = await leakedInRepo('AKIANOTINTHISACCOUNT', { control: world.control });
    const run = await ctx.lifecycles.start(ctx.finding);
    expect(run).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    const unavailable = (await ctx.store.events(ctx.finding.id)).find((e) => e.action === 'remediation.unavailable')!;
    expect(unavailable.reason).toMatch(/^rotation not configured for this credential: no managed secret/);
  });
});

describe('scheduled rotations: Secrets Manager events recorded on the managed secret; the rotated-out key retired', () => {
  const cloudTrailEvent = (eventName: string, secretArn: string, eventID: string) => ({
    id: `eb-${eventID}`,
    'detail-type': 'AWS Service Event via CloudTrail',
    source: 'aws.secretsmanager',
    detail: {
      eventName,
      eventID,
      eventTime: '2026-11-20T08:59:00Z',
      eventSource: 'secretsmanager.amazonaws.com',
      additionalEventData: { SecretId: secretArn },
    },
  });

  it('rotation succeeded: recorded once per CloudTrail event, then the old key is deactivated, verified and deleted (evidence on the secret, hash-chained)', async () => {
    world = aRotationWorld();
    const { key, secretArn } = world.managedIamUser('reporting-etl');
    await new SecretsManagerClient({ region: 'eu-west-1' }).send(
      new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: '0f6d7a4e-2222-4a2b-9c3d-000000000001' }),
    );
    const { store, client, tableName } = await aFreshStore();
    const secrets = new DynamoManagedSecretStore(new SingleTable(client, tableName));
    const started: Array<{ name?: string; input?: string }> = [];
    const sfn = {
      send: async (command: { input: { name?: string; input?: string } }) => started.push(command.input),
    } as never;
    const rotationStateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:rotation';
    const deps = {
      secrets,
      catalogue: awsSecretCatalogue(world.secretsManager),
      retirements: stepFunctionsRetirements(sfn, rotationStateMachineArn),
      policy: DEFAULT_POLICY,
      clock,
    };

    expect(await recordRotationEvent(cloudTrailEvent('RotationSucceeded', secretArn, 'ct-1'), deps)).toBe('recorded');
    expect(await recordRotationEvent(cloudTrailEvent('RotationSucceeded', secretArn, 'ct-1'), deps)).toBe('duplicate');
    expect(await recordRotationEvent(cloudTrailEvent('RotationStarted', secretArn, 'ct-0'), deps)).toBe('ignored');
    expect(started).toEqual([
      {
        stateMachineArn: rotationStateMachineArn,
        name: 'retire-0f6d7a4e-2222-4a2b-9c3d-000000000001',
        input: expect.any(String),
      },
    ]);

    const runner = new LocalRotationRunner({ store, clock, policy: DEFAULT_POLICY, control: world.control, secrets });
    const retired = await runner.run(JSON.parse(started[0]!.input!));
    expect(retired.path).toEqual([
      'Enter',
      'GracePeriod',
      'DeactivateOldKey',
      'Verify',
      'RecordEvidence',
      'ResumeLifecycle',
      'AfterResume',
      'DeletionDelay',
      'DeleteOldKey',
      'Done',
    ]);
    expect(world.iam.keysOf('reporting-etl').map((k) => k.AccessKeyId)).not.toContain(key.AccessKeyId);

    const record = (await secrets.get(secretArn))!;
    expect(record).toMatchObject({
      name: 'app/reporting-etl/access-key',
      rotator: 'iam_access_key',
      lastOutcome: 'succeeded',
      rotations: 1,
      failures: 0,
      lastRotatedAt: clock.now().toISOString(),
    });
    const events = await secrets.events(secretArn);
    expect(events.map((e) => e.action)).toEqual([
      'rotation.succeeded',
      'key.deactivated',
      'rotation.verified',
      'key.deleted',
    ]);
    expect(verifyChain(events, { count: record.eventCount, lastHash: record.lastEventHash }).ok).toBe(true);
    expect((await secrets.list()).map((s) => s.secretArn)).toEqual([secretArn]);
    // `audit verify` covers the managed secret's history too, and names it when an event is edited.
    const trail = new DynamoAuditTrail(new SingleTable(client, tableName));
    const verify = () => verifyAuditTrail({ trail, trailName: tableName, now: () => new Date() });
    expect(await verify()).toMatchObject({ ok: true, secrets: 1, events: 4 });
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `MANAGED_SECRET#${secretArn}` }, sk: { S: 'EVENT#0000000002' } },
        UpdateExpression: 'SET reason = :r',
        ExpressionAttributeValues: { ':r': { S: 'never happened' } },
      }),
    );
    expect((await verify()).problems).toEqual([
      {
        kind: 'managed_secret',
        id: secretArn,
        check: 'chain',
        problem: 'event 2 (key.deactivated) was altered: its content does not match its hash',
      },
    ]);
  });

  it('rotation failed or abandoned: recorded as failures with an escalation, nothing retired', async () => {
    world = aRotationWorld();
    const { secretArn } = world.managedIamUser('reporting-etl');
    const { client, tableName } = await aFreshStore();
    const secrets = new DynamoManagedSecretStore(new SingleTable(client, tableName));
    const started: unknown[] = [];
    const deps = {
      secrets,
      catalogue: awsSecretCatalogue(world.secretsManager),
      retirements: stepFunctionsRetirements({ send: async (c: unknown) => started.push(c) } as never, 'arn:x'),
      policy: DEFAULT_POLICY,
      clock,
    };
    await recordRotationEvent(cloudTrailEvent('RotationFailed', secretArn, 'ct-2'), deps);
    await recordRotationEvent(cloudTrailEvent('RotationAbandoned', secretArn, 'ct-3'), deps);
    expect(started).toEqual([]);
    expect(await secrets.get(secretArn)).toMatchObject({ failures: 2, rotations: 0, lastOutcome: 'abandoned' });
    expect((await secrets.events(secretArn)).map((e) => e.reason)).toEqual([
      expect.stringMatching(
        /rotation of app\/reporting-etl\/access-key failed; AWSCURRENT is .+; escalated to identity-programme/,
      ),
      expect.stringMatching(/abandoned/),
    ]);
  });

  it('a malformed event names the field', async () => {
    world = aRotationWorld();
    const { client, tableName } = await aFreshStore();
    const deps = {
      secrets: new DynamoManagedSecretStore(new SingleTable(client, tableName)),
      catalogue: awsSecretCatalogue(world.secretsManager),
      retirements: stepFunctionsRetirements({} as never, 'arn:x'),
      policy: DEFAULT_POLICY,
      clock,
    };
    await expect(
      recordRotationEvent({ id: 'x', source: 'aws.secretsmanager', detail: { eventName: 'RotationSucceeded' } }, deps),
    ).rejects.toThrow(/eventID/);
  });
});

describe('credential hygiene: NHI7 and NHI1 findings raised from the account inventory', () => {
  it('raises NHI7 for a secret not rotated within policy and an old key, NHI1 for an unused key; a re-run changes nothing', async () => {
    world = aRotationWorld();
    const now = clock.now().getTime();
    world.sm.now = () => new Date(now - 200 * 86400e3);
    world.sm.addSecret({ name: 'legacy/db-password', value: 'pw-value-0000000000000000' });
    world.sm.now = () => new Date(now - 10 * 86400e3);
    world.sm.addSecret({ name: 'fresh/api-key', value: 'fresh-value-00000000000000' });
    world.iam.now = () => new Date(now - 120 * 86400e3);
    world.iam.addUser('old-but-used', { lastUsed: new Date(now - 86400e3) });
    world.iam.addUser('never-used', { lastUsed: null });
    world.iam.now = () => new Date(now - 5 * 86400e3);
    world.iam.addUser('new-and-used', { lastUsed: new Date(now - 86400e3) });

    const { store } = await aFreshStore();
    const inventory = await readCredentialInventory(
      { secretsManager: world.secretsManager, iam: world.iamClient },
      world.hasher,
    );
    const first = await ingestRecords(hygieneRecords(inventory, DEFAULT_POLICY, clock.now()), {
      store,
      clock,
      reportName: 'hygiene',
      format: 'closeloop-hygiene',
    });
    expect(first).toMatchObject({ created: 4, rejected: 0 });
    const findings = (await store.list()).map((f) => [f.owaspNhi.join(','), f.title]).sort();
    expect(findings).toEqual([
      ['NHI1', 'Access key of IAM user never-used never used in 120 days (policy: 90)'],
      ['NHI7', 'Access key of IAM user never-used is 120 days old (policy: rotate within 90)'],
      ['NHI7', 'Access key of IAM user old-but-used is 120 days old (policy: rotate within 90)'],
      ['NHI7', 'Secret legacy/db-password not rotated for 200 days (policy: 90)'],
    ]);
    const again = await ingestRecords(
      hygieneRecords(
        await readCredentialInventory({ secretsManager: world.secretsManager, iam: world.iamClient }, world.hasher),
        DEFAULT_POLICY,
        clock.now(),
      ),
      { store, clock, reportName: 'hygiene', format: 'closeloop-hygiene' },
    );
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 4 });
    const table = JSON.stringify(await store.list());
    for (const keys of world.iam.users.values()) for (const k of keys) expect(table).not.toContain(k.AccessKeyId);
  });

  it('a later run closes what the inventory proves fixed (key deleted: key_deactivated; secret rotated: rotation_record); a key used again is a clean re-scan an AWS key needs more than, said once', async () => {
    world = aRotationWorld();
    const now = clock.now().getTime();
    world.sm.now = () => new Date(now - 200 * 86400e3);
    const legacy = world.sm.addSecret({ name: 'legacy/db-password', value: 'pw-value-0000000000000000' });
    world.iam.now = () => new Date(now - 120 * 86400e3);
    world.iam.addUser('leaver', { lastUsed: null });
    const idle = world.iam.addUser('idle-then-used', { lastUsed: null });
    world.iam.addUser('old-but-used', { lastUsed: new Date(now - 86400e3) });

    const { store } = await aFreshStore();
    const policy: Policy = {
      ...PRE_AUTHORIZED,
      preAuthorized: [{ ...PRE_AUTHORIZED.preAuthorized[0]!, nhiTypes: ['cloud_access_key', 'generic_secret'] }],
    };
    const { lifecycles, deps } = localDecisions(store, clock, policy);
    const inventory = () =>
      readCredentialInventory({ secretsManager: world!.secretsManager, iam: world!.iamClient }, world!.hasher);
    const first = await runCredentialHygiene(await inventory(), deps);
    expect(first).toEqual({ summary: expect.objectContaining({ created: 6, rejected: 0 }), cleared: [] });
    for (const f of await store.list()) await lifecycles.start(f);
    // Nothing can rotate here: every hygiene finding waits for its owner.
    expect(new Set((await store.list()).map((f) => f.lifecycle?.waitingAt))).toEqual(new Set(['AwaitOwnerFix']));
    const find = async (title: RegExp) => (await store.list()).filter((f) => title.test(f.title));

    // The owners act: the leaver's key deleted, the secret rotated yesterday, the idle key used again.
    world.iam.users.set('leaver', []);
    world.sm.secrets.get(legacy)!.lastRotated = new Date(now - 86400e3);
    idle.lastUsed = new Date(now - 3600e3);
    const second = await runCredentialHygiene(await inventory(), deps);
    expect(second.summary).toMatchObject({ created: 0, rejected: 0 });
    // (the message ends with what the signaller said: here the local run's outcome)
    expect(second.cleared.map((c) => c.message).sort()).toEqual([
      'clean re-scan by closeloop:credential-hygiene: parked',
      'key deactivated by closeloop:credential-hygiene: succeeded',
      'key deactivated by closeloop:credential-hygiene: succeeded',
      'rotation record by closeloop:credential-hygiene: succeeded',
    ]);
    const leaver = await find(/IAM user leaver/);
    expect(leaver.map((f) => [f.owaspNhi[0], f.status, f.evidence.map((e) => e.kind)])).toEqual(
      expect.arrayContaining([
        ['NHI1', 'resolved', ['key_deactivated']],
        ['NHI7', 'resolved', ['key_deactivated']],
      ]),
    );
    const [secret] = await find(/legacy\/db-password/);
    expect(secret).toMatchObject({
      status: 'resolved',
      evidence: [
        expect.objectContaining({
          kind: 'rotation_record',
          ref: `secretsmanager:${legacy}@${new Date(now - 86400e3).toISOString()}`,
          simulated: false,
        }),
      ],
    });
    // Used again: no longer NHI1, but an AWS key closes only on rotation or deactivation: back to its owner.
    const [usedAgain] = await find(/IAM user idle-then-used never used/);
    expect(usedAgain).toMatchObject({ status: 'open', lifecycle: { waitingAt: 'AwaitOwnerFix' } });
    expect((await store.events(usedAgain!.id)).map((e) => e.action).slice(-2)).toEqual([
      'evidence.recorded',
      'verification.failed',
    ]);
    expect((await find(/old-but-used/))[0]).toMatchObject({ status: 'open', evidence: [] });

    // Tomorrow's run knows nothing new: nobody is bounced again.
    const events = (await store.events(usedAgain!.id)).length;
    expect((await runCredentialHygiene(await inventory(), deps)).cleared).toEqual([]);
    expect(await store.events(usedAgain!.id)).toHaveLength(events);
  });

  it('an account with no IAM users names no account: a later run still closes the findings of the secrets it lists', async () => {
    world = aRotationWorld();
    const now = clock.now().getTime();
    world.sm.now = () => new Date(now - 200 * 86400e3);
    const legacy = world.sm.addSecret({ name: 'legacy/db-password', value: 'pw-value-0000000000000000' });
    const { store } = await aFreshStore();
    const policy: Policy = {
      ...PRE_AUTHORIZED,
      preAuthorized: [{ ...PRE_AUTHORIZED.preAuthorized[0]!, nhiTypes: ['generic_secret'] }],
    };
    const { lifecycles, deps } = localDecisions(store, clock, policy);
    const inventory = () =>
      readCredentialInventory({ secretsManager: world!.secretsManager, iam: world!.iamClient }, world!.hasher);
    expect((await inventory()).account).toBeUndefined();
    expect((await runCredentialHygiene(await inventory(), deps)).summary).toMatchObject({ created: 1 });
    for (const f of await store.list()) await lifecycles.start(f);
    expect((await store.list()).map((f) => f.lifecycle?.waitingAt)).toEqual(['AwaitOwnerFix']);

    world.sm.secrets.get(legacy)!.lastRotated = new Date(now - 86400e3);
    const second = await runCredentialHygiene(await inventory(), deps);
    expect(second.cleared.map((c) => c.message)).toEqual([
      'rotation record by closeloop:credential-hygiene: succeeded',
    ]);
    expect(await store.list()).toEqual([expect.objectContaining({ status: 'resolved' })]);
  });
});
