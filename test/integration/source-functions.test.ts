import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { signBody } from '@connectors/sinks/webhook-signature';
import { updateFinding } from '@core/finding/update';
import { fixedClock } from '@core/shared/clock';
import { DynamoWritebackStore } from '@core/store/dynamo-writeback-store';
import { SingleTable, keys } from '@core/store/table';
import { STUCK_ATTEMPTS } from '@core/writeback/sync';
import { aFreshStore, useLambdaEnvironment } from '@test/support/dynamo';
import { TEST_KEY } from '@test/support/factories';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { FakeSecurityHub, GithubStandIn, type StandInAlert } from '@test/support/scanner-standins';

const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:closeloop-key-AbCdEf';
const SOURCES_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:closeloop-sources-AbCdEf';
const WEBHOOK_SECRET = 'lambda-github-webhook-secret-000';
const secrets = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const LIFECYCLE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:closeloop-finding-lifecycle';
const github = new GithubStandIn();
const securityHub = new FakeSecurityHub();
const context = (remainingMs = 600_000) =>
  ({ functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

let fresh: Awaited<ReturnType<typeof aFreshStore>>;
let handlers: {
  pull: typeof import('@functions/github-pull');
  writeback: typeof import('@functions/source-writeback');
  webhook: typeof import('@functions/github-webhook');
};

beforeAll(async () => {
  await github.start();
  for (const a of readOwnFixtureJson<Array<StandInAlert & { repository: { full_name: string } }>>(
    'scanners',
    'github',
    'org-alerts.json',
  ))
    github.addAlert(a.repository.full_name, a);
  fresh = await aFreshStore();
  // As the template sets them (see the deploy smoke test), then the handlers loaded once.
  useLambdaEnvironment(
    fresh,
    {
      CLOSELOOP_DEPLOYMENT_KEY_SECRET: KEY_ARN,
      CLOSELOOP_SOURCES_SECRET: SOURCES_ARN,
      CLOSELOOP_SOURCES: 'github',
      CLOSELOOP_GITHUB_SCOPES: 'org:acme,org:gone',
      CLOSELOOP_LIFECYCLE_STATE_MACHINE: LIFECYCLE_MACHINE,
      GITHUB_API_URL: github.url,
    },
    'eu-west-1',
  );
  sfn.on(StartExecutionCommand).callsFake((i: { name: string }) => ({
    executionArn: `${LIFECYCLE_MACHINE.replace(':stateMachine:', ':execution:')}:${i.name}`,
    startDate: new Date(),
  }));
  secrets.on(GetSecretValueCommand, { SecretId: KEY_ARN }).resolves({ SecretString: TEST_KEY.toString('hex') });
  secrets.on(GetSecretValueCommand, { SecretId: SOURCES_ARN }).resolves({
    SecretString: JSON.stringify({ githubToken: github.token, githubWebhookSecret: WEBHOOK_SECRET }),
  });
  handlers = {
    pull: await import('@functions/github-pull'),
    writeback: await import('@functions/source-writeback'),
    webhook: await import('@functions/github-webhook'),
  };
});
afterAll(async () => {
  await github.stop();
  securityHub.restore();
  secrets.restore();
  sfn.restore();
});

describe('the scanner Lambdas', () => {
  it('the scheduled GitHub pull ingests every scope it can, then fails the run for the one it cannot (the DLQ alarms)', async () => {
    // GitHub answers 404 for an organisation it does not know.
    await expect(handlers.pull.handler({}, context())).rejects.toThrow(
      /^GitHub pull failed for org:gone: .*\/orgs\/gone\/secret-scanning\/alerts: HTTP 404$/,
    );
    expect((await fresh.store.list()).map((f) => f.sources[0]!.scannerId).sort()).toEqual([
      'acme/billing#7',
      'acme/docs#3',
    ]);
    // Each new finding's lifecycle started right after its commit, not at the next sweep.
    for (const f of await fresh.store.list())
      expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
        stateMachineArn: LIFECYCLE_MACHINE,
        name: expect.stringContaining(f.id),
      });
  });

  it('the write-back tells GitHub, and fails its run once work has kept failing for hours (the work stays pending)', async () => {
    const [finding] = (await fresh.store.list()).filter((f) => f.sources[0]!.scannerId === 'acme/billing#7');
    const clock = fixedClock(new Date());
    await updateFinding(fresh.store, clock, finding!.id, (f) => ({
      finding: { ...f, status: 'false_positive' },
      events: [{ actor: 'alice', action: 'finding.false_positive', to: 'false_positive', reason: 'a test key' }],
    }));
    expect(await handlers.writeback.handler({}, context())).toMatchObject({ written: 1, pending: 0 });
    expect(github.alert('acme/billing', 7)).toMatchObject({ state: 'resolved', resolution: 'false_positive' });

    // Reopened, while GitHub fails every update; the work has failed seven times already.
    await updateFinding(fresh.store, clock, finding!.id, (f) => ({
      finding: { ...f, status: 'reopened' },
      events: [{ actor: 'jira', action: 'finding.reopened', to: 'reopened', reason: 'ticket reopened' }],
    }));
    const work = new DynamoWritebackStore(new SingleTable(fresh.client, fresh.tableName));
    const [pending] = await work.pendingOf(finding!.id);
    await new SingleTable(fresh.client, fresh.tableName).doc.send(
      new UpdateCommand({
        TableName: fresh.tableName,
        Key: keys.writebackWork(pending!.findingId, pending!.seq),
        UpdateExpression: 'SET attempts = :n',
        ExpressionAttributeValues: { ':n': STUCK_ATTEMPTS - 1 },
      }),
    );
    github.fault = ({ method }) => (method === 'PATCH' ? '500' : 'none');
    await expect(handlers.writeback.handler({}, context())).rejects.toThrow(
      new RegExp(
        `^1 write-back\\(s\\) failed ${STUCK_ATTEMPTS} times or more and stay pending: ${finding!.id} \\(reopen`,
      ),
    );
    expect(await work.pendingOf(finding!.id)).toHaveLength(1);
    github.fault = () => 'none';
  });

  it('the GitHub webhook Lambda verifies the signature of the body API Gateway hands it (base64 too)', async () => {
    const body = JSON.stringify({
      action: 'created',
      alert: { number: 12, secret_type: 'slack_incoming_webhook_url', created_at: '2026-11-01T00:00:00Z' },
      repository: { full_name: 'acme/chatops', private: true },
    });
    const event = (signature: string) =>
      ({
        resource: '/webhooks/github',
        headers: {
          'X-Hub-Signature-256': signature,
          'X-GitHub-Event': 'secret_scanning_alert',
          'X-GitHub-Delivery': 'd-12',
        },
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      }) as unknown as APIGatewayProxyEvent;
    expect((await handlers.webhook.handler(event(signBody(body, 'not-the-secret-0000')))).statusCode).toBe(401);
    const ok = await handlers.webhook.handler(event(signBody(body, WEBHOOK_SECRET)));
    expect([ok.statusCode, JSON.parse(ok.body).outcome]).toEqual([200, 'recorded']);
  });
});
