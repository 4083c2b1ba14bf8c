import type { RecordOutcome } from '@core/ingest/ingest';
import type { SecretHasher } from '@core/finding/identity';
import type { Observation } from '@core/finding/model';

export const FORMAT_NAMES = ['gitleaks', 'trufflehog', 'sarif', 'github', 'gitguardian', 'asff'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** What every parser is given. */
export interface ParseContext {
  hasher: SecretHasher;
  /** When the hub received the report (ISO-8601); used where a record carries no date. */
  receivedAt: string;
  /** Overrides the asset a record would otherwise name (e.g. `--asset github.com/acme/api`). */
  asset?: string;
}

/** Result of normalising one record. */
export type Normalized =
  | { kind: 'observation'; observation: Observation }
  | { kind: 'skipped'; reason: string }
  | { kind: 'rejected'; problems: string[] };

/**
 * One scanner output format. `document` formats are one JSON value holding many records;
 * `lines` formats are JSON lines, one record each, streamed.
 */
export interface SourceFormat {
  name: FormatName;
  /** Human name for messages and the README. */
  label: string;
  shape: 'document' | 'lines';
  /** True when the parsed document (or the first JSON line) looks like this format. */
  detect(sample: unknown): boolean;
  /** The records of a whole document (document formats only). */
  records?(document: unknown): unknown[];
  /** One record → an observation, a skip, or the problems that reject it. Never throws on bad data. */
  normalize(record: unknown, ctx: ParseContext): Normalized;
}

export type { RecordOutcome };
