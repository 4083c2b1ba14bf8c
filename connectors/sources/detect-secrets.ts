import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location } from '@core/finding/model';
import { recordParser } from './record-parser';
import { isoOrUndefined, leakObservation, leakTitle, repositoryAsset } from './common';
import { idField, pathField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

/**
 * One secret of a detect-secrets baseline (`.secrets.baseline`, 0.x and 1.x). It carries no
 * secret, only its unkeyed SHA-1 (`hashed_secret`), so it gets a location identity; the SHA-1
 * is never stored. `is_secret: false` is an audited false positive.
 */
export const DetectSecretsResultSchema = z.object({
  type: idField().min(1),
  // 0.x baselines name the file only in the key of `results`.
  filename: pathField().optional(),
  hashed_secret: z.string().optional(),
  is_verified: z.boolean().optional(),
  line_number: z.number().int().nonnegative().optional(),
  is_secret: z.boolean().nullish(),
});

/** The baseline around the results. */
export const DetectSecretsBaselineSchema = z.object({
  version: z.string().optional(),
  results: z.record(z.string(), z.array(z.unknown())),
  generated_at: z.string().optional(),
});

/** A result with what it needs from its baseline. */
interface DetectSecretsRecord {
  __baseline: { file: string; generatedAt?: string };
  result: unknown;
}

const parseDetectSecretsResult = recordParser(DetectSecretsResultSchema);

export function normalizeDetectSecrets(record: unknown, ctx: ParseContext): Normalized {
  const { __baseline: baseline, result } = record as DetectSecretsRecord;
  const parsed = parseDetectSecretsResult(result);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const r = parsed.value;
  if (r.is_secret === false) return { kind: 'skipped', reason: 'audited as not a secret (is_secret: false)' };
  const asset = repositoryAsset(undefined, ctx);
  const path = r.filename || baseline.file;
  const location: Location = { kind: 'file', path };
  if (r.line_number !== undefined) location.line = r.line_number;
  if (asset.type === 'repository') location.repository = asset.id;
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'detect-secrets',
        scannerId: [path, r.type, r.line_number ?? ''].join(':'),
        ruleId: r.type,
        title: leakTitle(r.type, path),
        detector: r.type,
        nhiType: nhiTypeFromDetector(r.type),
        // The SHA-1 is not the secret and is not stored: location identity.
        validity: r.is_verified ? 'active' : 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(baseline.generatedAt) ?? ctx.receivedAt,
      },
      ctx,
    ),
  };
}

const isBaseline = (x: unknown): boolean =>
  typeof x === 'object' &&
  x !== null &&
  !Array.isArray(x) &&
  typeof (x as { results?: unknown }).results === 'object' &&
  (x as { results?: unknown }).results !== null &&
  !Array.isArray((x as { results?: unknown }).results) &&
  ('plugins_used' in x || 'generated_at' in x || 'filters_used' in x || 'exclude' in x);

const compiledBaseline = z.compile(DetectSecretsBaselineSchema);

export const detectSecretsFormat: SourceFormat = {
  name: 'detect-secrets',
  label: 'detect-secrets baseline (0.x and 1.x)',
  shape: 'document',
  detect: isBaseline,
  records: (doc) => {
    const baseline = compiledBaseline.parse(doc);
    const out: DetectSecretsRecord[] = [];
    for (const [file, results] of Object.entries(baseline.results)) {
      // One context per file, shared by its results.
      const context: DetectSecretsRecord['__baseline'] = { file };
      if (baseline.generated_at) context.generatedAt = baseline.generated_at;
      for (const result of results) out.push({ __baseline: context, result });
    }
    return out;
  },
  normalize: normalizeDetectSecrets,
  scanner: () => 'detect-secrets',
};
