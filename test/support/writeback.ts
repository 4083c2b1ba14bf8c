import { findingIdFor } from '@core/finding/identity';
import type { Observation } from '@core/finding/model';
import type { FindingStore } from '@core/finding/ports';
import { ingestRecords } from '@core/ingest/ingest';
import type { Clock } from '@core/shared/clock';

/** Ingests observations as one report; returns the distinct finding ids, in order of first appearance. */
export async function ingestObservations(
  store: FindingStore,
  clock: Clock,
  observations: Observation[],
): Promise<string[]> {
  await ingestRecords(
    observations.map((observation, i) => ({ recordNo: i + 1, kind: 'observation' as const, observation })),
    { store, clock, reportName: 'test', format: 'test' },
  );
  return [...new Set(observations.map((o) => findingIdFor(o.fingerprint)))];
}
