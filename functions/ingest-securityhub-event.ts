import type { Context, EventBridgeEvent } from 'aws-lambda';
import { ingestRecords } from '@core/ingest/ingest';
import { toRecordOutcome } from '@connectors/sources/outcome';
import { asffFormat } from '@connectors/sources/asff';
import { ocsfFormat } from '@connectors/sources/ocsf';
import { lambdaServices, logger } from '@connectors/wiring/lambda';
import { lambdaLifecycles } from '@connectors/wiring/lifecycle';

const services = lambdaServices();
const deploymentKey = services.deploymentKey();
const { launcher } = lambdaLifecycles(services);

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
  const ctx = { hasher: await deploymentKey.hasher(), receivedAt: services.clock.now().toISOString() };
  const lifecycles = { started: 0, deferred: 0 };
  const outcomes = format.records!(event).map((record, i) =>
    toRecordOutcome(i + 1, record, format.normalize(record, ctx)),
  );
  const summary = await ingestRecords(outcomes, {
    store: services.store,
    clock: services.clock,
    reportName: `eventbridge:${event.id}`,
    format: format.name,
    // Each new finding's lifecycle starts right after its commit; what time leaves over, the sweep starts.
    launcher,
    startUntil: Date.now() + context.getRemainingTimeInMillis() - 10_000,
    onStarted: (result) => {
      lifecycles.started += result.launched.length;
      lifecycles.deferred += result.deferred.length;
    },
  });
  logger.info('security hub event ingested', { detailType: event['detail-type'], ...summary, lifecycles });
  return summary;
};
