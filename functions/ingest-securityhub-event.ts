import type { Context, EventBridgeEvent } from 'aws-lambda';
import { ingestRecords } from '@core/ingest';
import { toRecordOutcome } from '@connectors/sources/outcome';
import { asffFormat } from '@connectors/sources/asff';
import { ocsfFormat } from '@connectors/sources/ocsf';
import { lambdaRuntime, logger } from './shared/runtime';

const runtime = lambdaRuntime();

/**
 * EventBridge → ingest the NHI findings an event carries: Security Hub CSPM's "Security Hub
 * Findings - Imported" (ASFF) and the new Security Hub's "Findings Imported V2" (OCSF).
 */
export const handler = async (event: EventBridgeEvent<string, { findings?: unknown[] }>, context: Context) => {
  logger.addContext(context);
  const format = [asffFormat, ocsfFormat].find((f) => f.detect(event));
  if (!format) {
    logger.warn('not a Security Hub findings event; ignored', { detailType: event['detail-type'] });
    return { received: 0 };
  }
  const ctx = { hasher: await runtime.hasher(), receivedAt: runtime.clock.now().toISOString() };
  const outcomes = format.records!(event).map((record, i) =>
    toRecordOutcome(i + 1, record, format.normalize(record, ctx)),
  );
  const summary = await ingestRecords(outcomes, {
    store: runtime.store,
    clock: runtime.clock,
    reportName: `eventbridge:${event.id}`,
    format: format.name,
  });
  logger.info('security hub event ingested', { detailType: event['detail-type'], ...summary });
  return summary;
};
