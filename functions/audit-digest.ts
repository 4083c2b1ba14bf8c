import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { ANOMALY_METRIC, writeDigest, type DigestWriterDeps } from '@core/audit/digest-writer';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { kmsDigestSigner, s3DigestArchive } from '@connectors/aws/audit-digests';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const deps: DigestWriterDeps = {
  trail: new DynamoAuditTrail(services.table),
  archive: s3DigestArchive(new S3Client({}), services.config.require('CLOSELOOP_DIGEST_BUCKET')),
  signer: kmsDigestSigner(new KMSClient({}), services.config.require('CLOSELOOP_DIGEST_KEY')),
  trailName: services.config.require('CLOSELOOP_TABLE'),
  now: () => new Date(),
};

/**
 * The digest writer (EventBridge schedule, its own role: the only one that may sign with the
 * digest key and write the digest bucket). Seals the chain heads that changed; what it refused to
 * seal (a chain cut, rewritten or deleted) is logged and counted in a metric with an alarm.
 */
export const handler = async (): Promise<{ seq: number; changed: number; anomalies: number }> => {
  const outcome = await writeDigest(deps);
  logger.info('digest written', {
    seq: outcome.seq,
    key: outcome.key,
    kind: outcome.kind,
    changed: outcome.changed,
    sealed: outcome.sealed,
  });
  // CloudWatch embedded metric format: the anomalies alarm fires on the first one.
  logger.info('audit trail anomalies', {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: ANOMALY_METRIC.namespace,
          Dimensions: [[]],
          Metrics: [{ Name: ANOMALY_METRIC.name, Unit: 'Count' }],
        },
      ],
    },
    [ANOMALY_METRIC.name]: outcome.anomalies.length,
  });
  if (outcome.anomalies.length > 0)
    logger.error('the audit trail disagrees with its digests', { anomalies: outcome.anomalies.slice(0, 50) });
  return { seq: outcome.seq, changed: outcome.changed, anomalies: outcome.anomalies.length };
};
