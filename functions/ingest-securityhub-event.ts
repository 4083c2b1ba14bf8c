import type { Context, EventBridgeEvent } from 'aws-lambda';
import { ingestRecords } from '@core/ingest/ingest';
import { toRecordOutcome } from '@connectors/sources/outcome';
import { asffFormat } from '@connectors/sources/asff';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const deploymentKey = services.deploymentKey();

/** EventBridge "Security Hub Findings - Imported" → ingest the NHI findings it carries. */
export const handler = async (event: EventBridgeEvent<string, { findings?: unknown[] }>, context: Context) => {
  logger.addContext(context);
  if (!asffFormat.detect(event)) {
    logger.warn('not a Security Hub findings event; ignored', { detailType: event['detail-type'] });
    return { received: 0 };
  }
  const ctx = { hasher: await deploymentKey.hasher(), receivedAt: services.clock.now().toISOString() };
  const outcomes = asffFormat.records!(event).map((record, i) =>
    toRecordOutcome(i + 1, record, asffFormat.normalize(record, ctx)),
  );
  const summary = await ingestRecords(outcomes, {
    store: services.store,
    clock: services.clock,
    reportName: `eventbridge:${event.id}`,
    format: 'asff',
  });
  logger.info('security hub event ingested', { ...summary });
  return summary;
};
