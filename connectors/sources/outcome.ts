import type { RecordOutcome } from '@core/ingest/ingest';
import { redactRecord } from '@core/shared/redaction';
import type { Normalized } from './types';

/** A parser's verdict on one record as an ingest outcome; rejected records are redacted here. */
export function toRecordOutcome(recordNo: number, record: unknown, result: Normalized): RecordOutcome {
  if (result.kind === 'observation') return { recordNo, kind: 'observation', observation: result.observation };
  if (result.kind === 'skipped') return { recordNo, kind: 'skipped', reason: result.reason };
  return { recordNo, kind: 'rejected', problems: result.problems, redactedRecord: redactRecord(record) };
}
