import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sdkStreamMixin } from '@smithy/util-stream';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '@core/shared/clock';
import { updateFinding } from '@core/finding/update';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { aFreshStore, useLambdaEnvironment } from '@test/support/dynamo';
import { SCANNER_FIXTURE_SECRETS, ownFixturePath } from '@test/support/fixtures';
import { TEST_KEY, aHasher } from '@test/support/factories';

const fixture = (...parts: string[]) => ownFixturePath('scanners', ...parts);
const clock = fixedClock('2026-11-01T09:00:00.000Z');
const ASSET = 'github.com/acme/payments-api';

describe('ingesting the formats as a user does (DynamoDB Local)', () => {
  it('makes current TruffleHog, old TruffleHog, gitleaks 8 and 7, GitLab, Nosey Parker and ggshield --show-secrets one finding per secret', async () => {
    const { store } = await aFreshStore();
    const { total } = await ingestReportFiles(
      [
        fixture('trufflehog', 'v3-2022-base64.jsonl'),
        fixture('trufflehog', 'v3-current.jsonl'),
        fixture('gitleaks', 'v8-git.json'),
        fixture('gitleaks', 'v7.json'),
        fixture('gitlab', 'v15.json'),
        fixture('noseyparker', 'v0.22.jsonl'),
        fixture('ggshield', 'path-scan-show-secrets.json'),
      ],
      { store, clock, hasher: aHasher(), asset: ASSET },
    );
    expect(total.rejected).toBe(0);
    const aws = (await store.list()).filter((f) => f.secretPreview === 'AKIA…(20)');
    expect(aws).toHaveLength(1);
    expect(new Set(aws[0]!.sources.map((s) => s.scanner))).toEqual(
      new Set(['trufflehog', 'gitleaks', 'gitlab-secret-detection', 'noseyparker']),
    );
    const stripe = (await store.list()).filter((f) => f.secretPreview === 'sk_l…(39)');
    expect(new Set(stripe.flatMap((f) => f.sources.map((s) => s.scanner)))).toEqual(new Set(['gitleaks', 'ggshield']));
    expect(stripe).toHaveLength(1);
    expect(JSON.stringify(await store.list())).not.toMatch(
      new RegExp(SCANNER_FIXTURE_SECRETS.map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')),
    );
  });

  it('keeps three redacted gitleaks exposures three findings, and none merges with another report by "REDACTED"', async () => {
    const { store } = await aFreshStore();
    const { total } = await ingestReportFiles([fixture('gitleaks', 'v8-redact.json')], {
      store,
      clock,
      hasher: aHasher(),
      asset: ASSET,
    });
    expect(total).toMatchObject({ received: 4, created: 3, updated: 1 });
    const again = await ingestReportFiles([fixture('gitleaks', 'v8-redact-60.json')], {
      store,
      clock,
      hasher: aHasher(),
      asset: 'github.com/acme/another-repo',
    });
    expect(again.total).toMatchObject({ received: 3, created: 3 });
    expect((await store.list()).every((f) => f.secretHash === undefined)).toBe(true);
  });

  it('ingests a CodeQL SARIF as nothing: every result skipped and counted', async () => {
    const { store } = await aFreshStore();
    const { total, scans } = await ingestReportFiles([fixture('sarif', 'codeql.sarif')], {
      store,
      clock,
      hasher: aHasher(),
    });
    expect(total).toMatchObject({ received: 4, created: 0, skipped: 4, rejected: 0 });
    expect(scans).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it.each([
    ['gitleaks 8 []', 'gitleaks', ['gitleaks', 'v8-empty.json'], 'gitleaks'],
    ['gitleaks 7 null', 'gitleaks', ['gitleaks', 'v7-empty.json'], 'gitleaks'],
    ['an empty TruffleHog file', 'trufflehog', ['trufflehog', 'empty.jsonl'], 'trufflehog'],
    ['an empty GitLab report', 'auto', ['gitlab', 'v15-empty.json'], 'gitlab-secret-detection'],
  ] as const)('counts %s as a clean scan of --asset', async (_, format, parts, scanner) => {
    const { store } = await aFreshStore();
    const { total, scans } = await ingestReportFiles([fixture(...parts)], {
      store,
      clock,
      hasher: aHasher(),
      format,
      asset: ASSET,
    });
    expect(total).toMatchObject({ received: 0, created: 0, rejected: 0 });
    expect(scans).toEqual([expect.objectContaining({ scanner, assets: new Set([ASSET]), reported: new Set() })]);
  });
});

const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const context = { functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 170_000 } as Context;

function sqsEventFor(bucket: string, key: string): SQSEvent {
  const body = JSON.stringify({
    Records: [{ s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%20/g, '+') } } }],
  });
  return {
    Records: [{ messageId: 'm-1', body, receiptHandle: 'r', attributes: {}, messageAttributes: {}, md5OfBody: '' }],
  } as unknown as SQSEvent;
}

describe('the report bucket: <format>/<asset>/<file> (ingest-s3-report Lambda, DynamoDB Local, S3 and SFN mocked)', () => {
  let store: Awaited<ReturnType<typeof aFreshStore>>['store'];
  let handler: typeof import('@functions/ingest-s3-report').handler;
  let securityHub: typeof import('@functions/ingest-securityhub-event').handler;

  beforeAll(async () => {
    const fresh = await aFreshStore();
    store = fresh.store;
    useLambdaEnvironment(
      fresh,
      {
        CLOSELOOP_DEPLOYMENT_KEY_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:closeloop-key',
        CLOSELOOP_LIFECYCLE_STATE_MACHINE: 'arn:aws:states:us-east-1:123456789012:stateMachine:lifecycle',
      },
      'us-east-1',
    );
    ({ handler } = await import('@functions/ingest-s3-report'));
    ({ handler: securityHub } = await import('@functions/ingest-securityhub-event'));
  });

  beforeEach(() => {
    secrets.reset();
    s3.reset();
    sfn.reset();
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:x', startDate: new Date() });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: TEST_KEY.toString('hex') });
  });

  it('reads the format and the asset from the key: an empty gitleaks report resumes what it no longer reports', async () => {
    s3.on(GetObjectCommand, { Key: 'gitleaks/github.com%2Facme%2Fpayments-api/2026-11-01.json' }).resolves({
      Body: sdkStreamMixin(createReadStream(fixture('gitleaks', 'v8-git.json'))),
    });
    await handler(sqsEventFor('reports', 'gitleaks/github.com%2Facme%2Fpayments-api/2026-11-01.json'), context);
    const apiKey = (await store.list()).find((f) => f.detector === 'generic-api-key')!;
    expect(apiKey.asset).toEqual({ type: 'repository', id: ASSET });
    await updateFinding(store, clock, apiKey.id, (f) => ({
      finding: { ...f, lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix', taskToken: 'token-api-key' } },
      events: [],
    }));

    s3.on(GetObjectCommand, { Key: 'gitleaks/github.com%2Facme%2Fpayments-api/2026-11-02.json' }).resolves({
      Body: sdkStreamMixin(Readable.from(['[]\n'])),
    });
    sfn.on(SendTaskSuccessCommand).resolves({});
    const result = await handler(
      sqsEventFor('reports', 'gitleaks/github.com%2Facme%2Fpayments-api/2026-11-02.json'),
      context,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await store.listQuarantine()).toEqual([]);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-api-key' });
    expect((await store.get(apiKey.id))!.evidence).toEqual([
      expect.objectContaining({
        kind: 'clean_rescan',
        recordedBy: 'scanner:gitleaks',
        ref: 'scan:gitleaks:2026-11-02.json',
      }),
    ]);
  });

  it('ingests the new Security Hub\'s "Findings Imported V2" event (OCSF) as the same finding as its ASFF export', async () => {
    const event = JSON.parse(readFileSync(fixture('securityhub', 'findings-imported-v2-iam3.json'), 'utf8'));
    expect(await securityHub(event, context)).toMatchObject({ received: 1, created: 1 });
    const asff = JSON.parse(readFileSync(fixture('securityhub', 'asff-lowercase-findings.json'), 'utf8')) as {
      findings: unknown[];
    };
    const asffEvent = {
      ...event,
      'detail-type': 'Security Hub Findings - Imported',
      detail: { findings: asff.findings },
    };
    expect(await securityHub(asffEvent, context)).toMatchObject({ received: 1, created: 0, updated: 1 });
    const iam3 = (await store.list()).filter((f) => f.detector === 'IAM.3');
    expect(iam3).toHaveLength(1);
    expect(iam3[0]!.owaspNhi).toEqual(['NHI7']);
    expect(iam3[0]!.sources.map((s) => s.scanner)).toEqual(['security-hub', 'security-hub']);
  });

  it('quarantines a bare [] under a key that names no format, saying to name it', async () => {
    s3.on(GetObjectCommand).resolves({ Body: sdkStreamMixin(Readable.from(['[]'])) });
    await handler(sqsEventFor('reports', 'uploads/clean.json'), context);
    const entry = (await store.listQuarantine()).find((q) => q.file === 's3://reports/uploads/clean.json');
    expect(entry!.problems).toEqual([
      'uploads/clean.json: an empty list ([]) does not say which scanner wrote it; if it is a clean scan (gitleaks 8, GitHub, Prowler OCSF and Nosey Parker write []), pass --format to ingest it',
    ]);
  });
});
