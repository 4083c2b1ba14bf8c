import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { digestKey } from '@core/audit/digest';
import { verifyAuditTrail } from '@core/audit/verify';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { SingleTable } from '@core/store/table';
import { fixedClock } from '@core/shared/clock';
import { kmsDigestSigner, kmsDigestVerifyKey, s3DigestArchive } from '@connectors/aws/audit-digests';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { aFreshStore, useLambdaEnvironment } from '@test/support/dynamo';
import { FakeKms, FakeObjectLockBucket } from '@test/support/fake-audit-aws';
import { aHasher } from '@test/support/factories';
import { reportFixture } from '@test/support/fixtures';
import { deleteStoredEventsAfter } from '@test/support/event-items';

// The deployed digest writer (functions/audit-digest.ts) as Lambda runs it, on DynamoDB Local, with
// stateful fakes of KMS (asymmetric signing) and of an S3 bucket with Object Lock in compliance mode.

const BUCKET = 'closeloop-audit-digests';
const kms = new FakeKms();
const s3 = new FakeObjectLockBucket(BUCKET, 365);
const keyArn = kms.createKey();
let fresh: Awaited<ReturnType<typeof aFreshStore>>;
let handler: typeof import('@functions/audit-digest').handler;

beforeAll(async () => {
  fresh = await aFreshStore();
  await ingestReportFiles([reportFixture('gitleaks-git.json')], {
    store: fresh.store,
    clock: fixedClock('2026-11-01T09:00:00.000Z'),
    hasher: aHasher(),
  });
  useLambdaEnvironment(
    fresh,
    {
      CLOSELOOP_DIGEST_BUCKET: BUCKET,
      CLOSELOOP_DIGEST_KEY: keyArn,
    },
    'eu-west-1',
  );
  ({ handler } = await import('@functions/audit-digest'));
});

const verify = async () =>
  verifyAuditTrail({
    trail: new DynamoAuditTrail(new SingleTable(fresh.client, fresh.tableName)),
    trailName: fresh.tableName,
    digests: {
      archive: s3DigestArchive(new S3Client({}), BUCKET),
      key: await kmsDigestVerifyKey(new KMSClient({}), keyArn),
      intervalMinutes: 60,
    },
    now: () => new Date(),
  });

describe('the digest writer Lambda (KMS and S3 Object Lock fakes)', () => {
  it('seals the trail with a KMS signature, verifiable with the public key alone', async () => {
    expect(await handler()).toEqual({ seq: 1, changed: 2, anomalies: 0 });
    expect(kms.signed).toHaveLength(1);
    // The short string to sign, raw (KMS hashes it): never the digest itself, however large.
    expect(kms.signed[0]!.message.toString()).toMatch(
      new RegExp(`^closeloop audit digest v1\\n${fresh.tableName}\\n1\\n[0-9a-f]{64}$`),
    );
    expect(s3.current(digestKey(1))).toBeDefined();
    expect(await verify()).toMatchObject({ ok: true, digest: { seq: 1, keyId: keyArn, chains: 2 } });
  });

  it('never gets a second version of a digest, and nobody deletes a locked one', async () => {
    const archive = s3DigestArchive(new S3Client({}), BUCKET);
    expect(await archive.putNew(digestKey(1), Buffer.from('{}'))).toBe(false);
    expect(s3.objects.get(digestKey(1))).toHaveLength(1);
    const [version] = s3.objects.get(digestKey(1))!;
    await expect(
      new S3Client({}).send(
        new DeleteObjectCommand({ Bucket: BUCKET, Key: digestKey(1), VersionId: version!.versionId }),
      ),
    ).rejects.toThrow('Access Denied because object protected by object lock.');
    // S3 requires a checksum of every write to a locked bucket; the archive sends SHA-256.
    await expect(
      new S3Client({}).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'digests/x', Body: 'x' })),
    ).rejects.toThrow(/checksum/);
  });

  it('reports a finding deleted behind its back as an anomaly (and alarms through its metric), and verify names it', async () => {
    const trail = new DynamoAuditTrail(new SingleTable(fresh.client, fresh.tableName));
    const [victim] = (await trail.heads()).chains;
    await deleteStoredEventsAfter(fresh.client, fresh.tableName, `FINDING#${victim!.id}`, 0);
    expect(await trail.events(victim!)).toEqual([]);
    await fresh.client.send(
      new DeleteCommand({ TableName: fresh.tableName, Key: { pk: `FINDING#${victim!.id}`, sk: '#FINDING' } }),
    );
    expect(await handler()).toEqual({ seq: 2, changed: 0, anomalies: 1 });
    const result = await verify();
    expect(result.problems).toEqual([
      expect.objectContaining({ id: victim!.id, check: 'sealed', problem: expect.stringMatching(/deleted$/) }),
    ]);
  });

  it('catches a digest hidden behind a delete marker (which the bucket policy denies to everyone)', async () => {
    await handler();
    await new S3Client({}).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: digestKey(2) }));
    const result = await verify();
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'digests', check: 'digest', problem: `${digestKey(2)} is missing` }),
      ]),
    );
  });

  it('refuses to verify with a key that is not an ECC_NIST_P256 signing key, and KMS refuses to sign with one', async () => {
    const symmetric = kms.createKey('SYMMETRIC_DEFAULT');
    await expect(kmsDigestVerifyKey(new KMSClient({}), symmetric)).rejects.toThrow(
      `${symmetric} is not the digest key: an ECC_NIST_P256 SIGN_VERIFY key is expected, got SYMMETRIC_DEFAULT ENCRYPT_DECRYPT`,
    );
    await expect(kmsDigestSigner(new KMSClient({}), symmetric).sign(Buffer.from('x'))).rejects.toThrow(
      /is not valid for/,
    );
  });
});
