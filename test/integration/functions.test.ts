import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sdkStreamMixin } from '@smithy/util-stream';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { StartExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { reportFixture } from '@test/support/fixtures';
import { aFreshStore, useLambdaEnvironment } from '@test/support/dynamo';
import { TEST_KEY } from '@test/support/factories';

const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const context = { functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 170_000 } as Context;
const LIFECYCLE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:closeloop-finding-lifecycle';

let store: Awaited<ReturnType<typeof aFreshStore>>['store'];
let handlers: {
  s3Report: typeof import('@functions/ingest-s3-report');
  securityHub: typeof import('@functions/ingest-securityhub-event');
  reportApi: typeof import('@functions/report-api');
  reportExport: typeof import('@functions/report-export');
};
const lambda = mockClient(LambdaClient);
const EXPORT_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:closeloop-report-export';

beforeAll(async () => {
  const fresh = await aFreshStore();
  store = fresh.store;
  // Handlers read their configuration at module load, as in Lambda: set it, then load them once
  // (in this module registry, so the SDK mocks above apply to their clients).
  useLambdaEnvironment(
    fresh,
    {
      CLOSELOOP_DEPLOYMENT_KEY_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:closeloop-key',
      CLOSELOOP_EXPORT_BUCKET: 'closeloop-exports',
      CLOSELOOP_REPORT_EXPORT_FUNCTION: EXPORT_FUNCTION,
      CLOSELOOP_REPORT_CURSOR_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:closeloop-cursor',
      CLOSELOOP_LIFECYCLE_STATE_MACHINE: LIFECYCLE_MACHINE,
    },
    'us-east-1',
  );
  handlers = {
    s3Report: await import('@functions/ingest-s3-report'),
    securityHub: await import('@functions/ingest-securityhub-event'),
    reportApi: await import('@functions/report-api'),
    reportExport: await import('@functions/report-export'),
  };
});

beforeEach(() => {
  secrets.reset();
  s3.reset();
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake((i: { name: string }) => ({
    executionArn: `${LIFECYCLE_MACHINE.replace(':stateMachine:', ':execution:')}:${i.name}`,
    startDate: new Date(),
  }));
  secrets.on(GetSecretValueCommand).resolves({ SecretString: TEST_KEY.toString('hex') });
});

function sqsEventFor(bucket: string, key: string): SQSEvent {
  const body = JSON.stringify({
    Records: [{ s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%20/g, '+') } } }],
  });
  return {
    Records: [
      {
        messageId: 'm-1',
        body,
        receiptHandle: 'r',
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:1:q',
        awsRegion: 'us-east-1',
      },
    ],
  } as unknown as SQSEvent;
}

describe('ingest-s3-report Lambda (DynamoDB Local, mocked S3 and Secrets Manager)', () => {
  it('ingests a report uploaded to S3, reading the HMAC key from Secrets Manager', async () => {
    s3.on(GetObjectCommand, { Bucket: 'reports', Key: 'scans/acme api/trufflehog.jsonl' }).resolves({
      Body: sdkStreamMixin(createReadStream(reportFixture('trufflehog-git.jsonl'))),
    });
    const result = await handlers.s3Report.handler(sqsEventFor('reports', 'scans/acme api/trufflehog.jsonl'), context);
    expect(result).toEqual({ batchItemFailures: [] });
    const ingested = (await store.list()).filter((f) => f.sources[0]!.scanner === 'trufflehog');
    expect(ingested).toHaveLength(3);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: process.env.CLOSELOOP_DEPLOYMENT_KEY_SECRET,
    });
    // Each new finding's lifecycle started right after the commit, not at the five-minute sweep.
    for (const f of ingested) {
      expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
        stateMachineArn: LIFECYCLE_MACHINE,
        name: `${f.id}-g1`,
        input: JSON.stringify({ findingId: f.id, generation: 1, resumeAt: 'triage' }),
      });
      expect(f.lifecycle).toMatchObject({ startedGeneration: 1 });
    }
    expect(await store.awaitingLifecycle()[Symbol.asyncIterator]().next()).toMatchObject({ done: true });
  });

  it('leaves a lifecycle it could not start for the sweep, and still succeeds: the report is committed', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    s3.on(GetObjectCommand).resolves({
      Body: sdkStreamMixin(createReadStream(reportFixture('gitleaks-git.json'))),
    });
    const result = await handlers.s3Report.handler(sqsEventFor('reports', 'scans/gitleaks-git.json'), context);
    expect(result).toEqual({ batchItemFailures: [] });
    const pages: string[] = [];
    for await (const page of store.awaitingLifecycle()) pages.push(...page.map((f) => f.id));
    expect(pages.length).toBeGreaterThan(0);
    const created = (await store.list()).filter((f) => f.sources[0]!.scanner === 'gitleaks');
    expect(pages.sort()).toEqual(created.map((f) => f.id).sort());
  });

  it('quarantines an unreadable report instead of retrying it forever', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: sdkStreamMixin(Readable.from(['[{"RuleID": "x", "Secret": "AKIAYVP4CIPPERUVIFXG"'])),
    });
    const result = await handlers.s3Report.handler(sqsEventFor('reports', 'broken.json'), context);
    expect(result).toEqual({ batchItemFailures: [] });
    const [entry] = await store.listQuarantine();
    expect(entry).toMatchObject({
      file: 's3://reports/broken.json',
      problems: [expect.stringMatching(/looks truncated/)],
    });
    expect(JSON.stringify(entry)).not.toContain('AKIAYVP4CIPPERUVIFXG');
  });

  it('reports the message as failed when S3 is unavailable, so SQS retries it and finally dead-letters it', async () => {
    s3.on(GetObjectCommand).rejects(new Error('service unavailable'));
    const result = await handlers.s3Report.handler(sqsEventFor('reports', 'a.json'), context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});

describe('ingest-securityhub-event Lambda', () => {
  it('ingests the NHI findings of an EventBridge "Security Hub Findings - Imported" event, and skips the others', async () => {
    // The sample event: an IAM.3 finding (access key not rotated) and an EC2 security-group one.
    const event = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'samples', 'securityhub-iam-findings.json'), 'utf8'),
    );
    const summary = await handlers.securityHub.handler(event, context);
    expect(summary).toMatchObject({ received: 2, created: 1, skipped: 1 });
    const finding = (await store.list()).find((f) => f.asset.type === 'aws_resource');
    expect(finding!.asset.id).toBe('arn:aws:iam::123456789012:user/reporting-batch');
    expect(finding!.owaspNhi).toEqual(['NHI7']);
  });
});

describe('report API and export worker Lambdas (routes by API Gateway resource; S3 and Lambda mocked, DynamoDB Local)', () => {
  it('GET /reports/{kind} answers directly; POST /reports/{kind}/exports invokes the worker asynchronously; the worker writes the file; GET /reports/exports/{id} signs a link', async () => {
    const objects = new Map<string, string>();
    s3.on(PutObjectCommand).callsFake((i: { Key: string; Body: string }) => void objects.set(i.Key, i.Body));
    s3.on(GetObjectCommand).callsFake((i: { Key: string }) => {
      if (!objects.has(i.Key)) throw new NoSuchKey({ message: 'no such key', $metadata: {} });
      return { Body: sdkStreamMixin(Readable.from([Buffer.from(objects.get(i.Key)!)])) };
    });
    lambda.reset();
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const event = (
      httpMethod: string,
      resource: string,
      pathParameters: Record<string, string>,
      queryStringParameters: Record<string, string> = {},
    ) =>
      ({
        httpMethod,
        resource,
        pathParameters,
        queryStringParameters,
        requestContext: { identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/closeloop-AuditorRole/jane' } },
      }) as never;

    const direct = await handlers.reportApi.handler(event('GET', '/reports/{kind}', { kind: 'standards' }));
    expect(direct.statusCode).toBe(200);
    const asked = await handlers.reportApi.handler(
      event('POST', '/reports/{kind}/exports', { kind: 'standards' }, { format: 'html' }),
    );
    expect(asked.statusCode).toBe(202);
    const { id } = JSON.parse(asked.body) as { id: string };
    const invoke = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(invoke).toMatchObject({ FunctionName: EXPORT_FUNCTION, InvocationType: 'Event' });
    const request = JSON.parse(Buffer.from(invoke.Payload as Uint8Array).toString('utf8')) as {
      id: string;
      requestedBy: string;
    };
    // The full identity: a session name alone is the caller's choice.
    expect(request).toMatchObject({
      id,
      kind: 'standards',
      format: 'html',
      requestedBy: 'arn:aws:sts::123456789012:assumed-role/closeloop-AuditorRole/jane',
    });

    expect(await handlers.reportExport.handler(request)).toEqual({ status: 'done' });
    const status = await handlers.reportApi.handler(event('GET', '/reports/exports/{id}', { id }));
    const body = JSON.parse(status.body) as { status: string; file: string; downloadUrl: string };
    expect(body).toMatchObject({
      status: 'done',
      file: expect.stringMatching(new RegExp(`^exports/${id}/closeloop-standards-\\d{4}-\\d{2}-\\d{2}\\.html$`)),
    });
    expect(objects.get(body.file)).toMatch(/^<!doctype html>/);
    expect(new URL(body.downloadUrl).hostname).toBe('closeloop-exports.s3.us-east-1.amazonaws.com');
  });
});
