import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location } from '@core/finding/model';
import { isoOrUndefined, leakObservation, leakTitle, repositoryAsset, repositoryFromLink } from './common';
import { parseRecord } from '@core/shared/problems';
import type { Normalized, ParseContext, SourceFormat } from './types';

/** One finding of a gitleaks v8 JSON report (`--report-format json`), git or dir mode. */
export const GitleaksFindingSchema = z.object({
  RuleID: z.string().min(1),
  Description: z.string().optional(),
  StartLine: z.number().int().nonnegative(),
  EndLine: z.number().int().nonnegative().optional(),
  StartColumn: z.number().int().optional(),
  EndColumn: z.number().int().optional(),
  Match: z.string().optional(),
  Secret: z.string(),
  File: z.string().min(1),
  SymlinkFile: z.string().optional(),
  Commit: z.string().optional(),
  Link: z.string().optional(),
  Entropy: z.number().optional(),
  Author: z.string().optional(),
  Email: z.string().optional(),
  Date: z.string().optional(),
  Message: z.string().optional(),
  Tags: z.array(z.string()).nullish(),
  Fingerprint: z.string().optional(),
  Line: z.string().optional(),
});
export type GitleaksFinding = z.infer<typeof GitleaksFindingSchema>;

export function normalizeGitleaks(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseRecord(GitleaksFindingSchema, record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const f = parsed.value;
  const repository = repositoryFromLink(f.Link);
  const asset = repositoryAsset(repository, ctx);
  const commit = f.Commit && f.Commit.length > 0 ? f.Commit : undefined;
  // Built by assignment rather than conditional spreads: this runs once per record.
  const location: Location = { kind: commit ? 'commit' : 'file', path: f.File, line: f.StartLine };
  if (asset.type === 'repository') location.repository = asset.id;
  if (commit) location.commit = commit;
  if (f.Link) location.url = f.Link;
  const what =
    f.Description && f.Description.length > 0 && f.Description.length < 60
      ? f.Description
      : f.RuleID.replace(/[-_]+/g, ' ');
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'gitleaks',
        scannerId:
          f.Fingerprint && f.Fingerprint.length > 0
            ? f.Fingerprint
            : [commit, f.File, f.RuleID, f.StartLine].filter(Boolean).join(':'),
        ruleId: f.RuleID,
        title: leakTitle(what, f.File),
        detector: f.RuleID,
        nhiType: nhiTypeFromDetector(f.RuleID, f.Description),
        secret: f.Secret,
        // gitleaks does not verify secrets.
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(f.Date) ?? ctx.receivedAt,
      },
      ctx,
    ),
  };
}

const GITLEAKS_KEYS = ['RuleID', 'StartLine', 'File'];

export const gitleaksFormat: SourceFormat = {
  name: 'gitleaks',
  label: 'Gitleaks JSON report (v8, git and dir mode)',
  shape: 'document',
  detect: (doc) =>
    Array.isArray(doc) &&
    (doc.length === 0
      ? false
      : typeof doc[0] === 'object' &&
        doc[0] !== null &&
        GITLEAKS_KEYS.filter((k) => k in (doc[0] as object)).length >= 2),
  records: (doc) => doc as unknown[],
  normalize: normalizeGitleaks,
};
