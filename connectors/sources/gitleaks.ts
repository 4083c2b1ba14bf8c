import { InputError } from '@core/shared/errors';
import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location } from '@core/finding/model';
import {
  isoOrUndefined,
  leakObservation,
  leakTitle,
  normaliseRepository,
  repositoryAsset,
  repositoryFromLink,
} from './common';
import { recordParser } from './record-parser';
import { idField, pathField, textField, urlField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

/**
 * One finding of a gitleaks v8 JSON report (`--report-format json`), git or dir mode. With
 * `--redact` the `Secret` is `REDACTED`, with `--redact=N` a prefix and `...`: the finding then
 * gets a location identity (see secret-value.ts).
 */
export const GitleaksFindingSchema = z.object({
  RuleID: idField().min(1),
  Description: textField().optional(),
  StartLine: z.number().int().nonnegative(),
  EndLine: z.number().int().nonnegative().optional(),
  StartColumn: z.number().int().optional(),
  EndColumn: z.number().int().optional(),
  Match: z.string().optional(),
  Secret: z.string(),
  File: pathField().min(1),
  SymlinkFile: pathField().optional(),
  Commit: idField().optional(),
  Link: urlField().optional(),
  Entropy: z.number().optional(),
  Author: z.string().optional(),
  Email: z.string().optional(),
  Date: z.string().optional(),
  Message: z.string().optional(),
  Tags: z.array(z.string()).nullish(),
  Fingerprint: idField().optional(),
  Line: z.string().optional(),
});
export type GitleaksFinding = z.infer<typeof GitleaksFindingSchema>;

/**
 * One leak of a gitleaks 7 (and 6) JSON report: `offender` is the secret (for private keys,
 * only the armour line). Before 7.x the line number was not reported.
 */
export const Gitleaks7LeakSchema = z.object({
  line: z.string().optional(),
  lineNumber: z.number().int().nonnegative().optional(),
  offender: z.string(),
  offenderEntropy: z.number().optional(),
  commit: idField().optional(),
  repo: idField().optional(),
  repoURL: urlField().optional(),
  leakURL: urlField().optional(),
  rule: idField().min(1),
  commitMessage: z.string().optional(),
  author: z.string().optional(),
  email: z.string().optional(),
  file: pathField().min(1),
  date: z.string().optional(),
  tags: z.string().optional(),
});

const parseGitleaksFinding = recordParser(GitleaksFindingSchema);

export function normalizeGitleaks(record: unknown, ctx: ParseContext): Normalized {
  if (isGitleaks7(record)) return normalizeGitleaks7(record, ctx);
  const parsed = parseGitleaksFinding(record);
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

const parseGitleaks7Leak = recordParser(Gitleaks7LeakSchema);

function normalizeGitleaks7(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseGitleaks7Leak(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const l = parsed.value;
  const repository =
    normaliseRepository(l.repoURL || undefined) ?? repositoryFromLink(l.leakURL || undefined) ?? undefined;
  const asset = repositoryAsset(repository, ctx);
  const commit = l.commit && l.commit.length > 0 ? l.commit : undefined;
  const location: Location = { kind: commit ? 'commit' : 'file', path: l.file };
  if (l.lineNumber !== undefined) location.line = l.lineNumber;
  if (asset.type === 'repository') location.repository = asset.id;
  if (commit) location.commit = commit;
  if (l.leakURL) location.url = l.leakURL;
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'gitleaks',
        scannerId: [commit, l.file, l.rule, l.lineNumber ?? ''].filter(Boolean).join(':'),
        ruleId: l.rule,
        title: leakTitle(l.rule.length < 60 ? l.rule : 'secret', l.file),
        detector: l.rule,
        nhiType: nhiTypeFromDetector(l.rule),
        secret: l.offender,
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(l.date) ?? ctx.receivedAt,
      },
      ctx,
    ),
  };
}

const GITLEAKS_KEYS = ['RuleID', 'StartLine', 'File'];
const GITLEAKS7_KEYS = ['rule', 'offender', 'lineNumber'];

const isGitleaks7 = (x: unknown): boolean =>
  typeof x === 'object' && x !== null && !('RuleID' in x) && 'rule' in x && 'offender' in x;

const looksLikeFinding = (x: unknown): boolean =>
  typeof x === 'object' &&
  x !== null &&
  (GITLEAKS_KEYS.filter((k) => k in x).length >= 2 || GITLEAKS7_KEYS.filter((k) => k in x).length >= 2);

export const gitleaksFormat: SourceFormat = {
  name: 'gitleaks',
  label: 'Gitleaks JSON report (v8, git and dir mode; v7)',
  shape: 'document',
  detect: (doc) => Array.isArray(doc) && doc.length > 0 && looksLikeFinding(doc[0]),
  records: (doc) => {
    // A clean scan: gitleaks 8 writes `[]`, gitleaks 7 `null`.
    if (doc === null) return [];
    if (!Array.isArray(doc)) throw new InputError('expected a JSON array of findings (or null)');
    return doc;
  },
  normalize: normalizeGitleaks,
  scanner: () => 'gitleaks',
};
