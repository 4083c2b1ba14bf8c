import type { RecordOutcome } from '@core/ingest/ingest';
import type { SecretHasher } from '@core/finding/identity';
import type { Observation } from '@core/finding/model';

export const FORMAT_NAMES = [
  'gitleaks',
  'trufflehog',
  'sarif',
  'github',
  'gitguardian',
  'asff',
  'ocsf',
  'gitlab',
  'detect-secrets',
  'ggshield',
  'noseyparker',
  'trivy',
] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** Other names people use for a format (`--format prowler` is Prowler's JSON-OCSF). */
export const FORMAT_ALIASES: Readonly<Record<string, FormatName>> = {
  prowler: 'ocsf',
  'trivy-operator': 'trivy',
  'gitlab-secret-detection': 'gitlab',
  'nosey-parker': 'noseyparker',
};

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
  /**
   * The records of a whole document. Document formats; a lines format may have a document
   * variant too (Nosey Parker's `--format json`). Throws when the document is not of this
   * format; an empty report (`[]`, gitleaks 7's `null`) is zero records, a clean scan.
   */
  records?(document: unknown): unknown[];
  /** One record → an observation, a skip, or the problems that reject it. Never throws on bad data. */
  normalize(record: unknown, ctx: ParseContext): Normalized;
  /**
   * The scanner a report of this format comes from when it reports nothing (a clean scan),
   * as its observations name it; from the document when it says (SARIF's tool, GitLab's analyzer).
   */
  scanner?(document: unknown): string | undefined;
}

export type { RecordOutcome };
