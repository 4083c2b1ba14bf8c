import { InputError } from '@core/shared/errors';
import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location, Severity } from '@core/finding/model';
import { recordParser } from './record-parser';
import { isoOrUndefined, leakObservation, leakTitle, repositoryAsset } from './common';
import { idField, pathField, textField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

/**
 * One vulnerability of a GitLab secret detection report (`gl-secret-detection-report.json`,
 * schemas 2.x to 15.x). `raw_source_code_extract` is the secret the analyzer (gitleaks) matched.
 */
export const GitlabSecretSchema = z.object({
  id: idField().optional(),
  category: z.string().optional(),
  name: textField().optional(),
  message: z.string().optional(),
  description: textField().optional(),
  cve: idField().optional(),
  severity: z.string().optional(),
  confidence: z.string().optional(),
  raw_source_code_extract: z.string().optional(),
  scanner: z.object({ id: idField().optional(), name: textField().optional() }).optional(),
  location: z.object({
    file: pathField().min(1),
    start_line: z.number().int().nonnegative().optional(),
    end_line: z.number().int().nonnegative().optional(),
    commit: z
      .object({
        sha: idField().optional(),
        date: z.string().optional(),
        author: z.string().optional(),
        message: z.string().optional(),
      })
      .optional(),
  }),
  identifiers: z.array(z.object({ type: z.string(), name: textField().optional(), value: idField() })).nullish(),
});

/** The report around the vulnerabilities. */
export const GitlabReportSchema = z.object({
  version: z.string().optional(),
  vulnerabilities: z.array(z.unknown()),
  scan: z
    .object({
      type: z.string().optional(),
      status: z.string().optional(),
      scanner: z.object({ id: idField().optional(), name: textField().optional() }).optional(),
    })
    .optional(),
});

const SEVERITY: Record<string, Severity> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
  info: 'info',
  // "Unknown" says nothing: ours stands.
};

/** A commit sha that names a commit: the analyzer writes "0000000" when it scanned a directory. */
const realCommit = (sha: string | undefined) => (sha && !/^0+$/.test(sha) ? sha : undefined);

const parseGitlabSecret = recordParser(GitlabSecretSchema);

export function normalizeGitlab(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseGitlabSecret(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const v = parsed.value;
  if (v.category && v.category !== 'secret_detection')
    return { kind: 'skipped', reason: `not a secret detection result (${v.category})` };
  const rule =
    v.identifiers?.find((i) => i.type.endsWith('rule_id'))?.value ?? v.identifiers?.[0]?.value ?? v.name ?? 'secret';
  const name = v.name ?? v.description ?? rule;
  const commit = realCommit(v.location.commit?.sha);
  const asset = repositoryAsset(undefined, ctx);
  const location: Location = { kind: commit ? 'commit' : 'file', path: v.location.file };
  if (v.location.start_line !== undefined) location.line = v.location.start_line;
  if (asset.type === 'repository') location.repository = asset.id;
  if (commit) location.commit = commit;
  const severity = SEVERITY[(v.severity ?? '').toLowerCase()];
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'gitlab-secret-detection',
        scannerId: v.id ?? v.cve ?? [commit ?? '', v.location.file, rule, v.location.start_line ?? ''].join(':'),
        ruleId: rule,
        title: leakTitle(name.length < 60 ? name : rule, v.location.file),
        detector: rule,
        nhiType: nhiTypeFromDetector(rule, name),
        secret: v.raw_source_code_extract,
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(v.location.commit?.date) ?? ctx.receivedAt,
        scannerSeverity: severity,
      },
      ctx,
    ),
  };
}

const isReport = (x: unknown): boolean =>
  typeof x === 'object' &&
  x !== null &&
  !Array.isArray(x) &&
  Array.isArray((x as { vulnerabilities?: unknown }).vulnerabilities) &&
  ((x as { scan?: { type?: unknown } }).scan?.type === 'secret_detection' ||
    ((x as { vulnerabilities: unknown[] }).vulnerabilities[0] as { category?: unknown } | undefined)?.category ===
      'secret_detection');

const compiledGitlabReport = z.compile(GitlabReportSchema);

export const gitlabFormat: SourceFormat = {
  name: 'gitlab',
  label: 'GitLab secret detection report (gl-secret-detection-report.json, schema 2 to 15)',
  shape: 'document',
  detect: isReport,
  records: (doc) => {
    const report = compiledGitlabReport.parse(doc);
    // Schema 15 dropped the per-vulnerability category: a SAST report must be refused whole.
    const type = report.scan?.type;
    if (type !== undefined && type !== 'secret_detection')
      throw new InputError(`a GitLab ${type} report, not secret detection`);
    return report.vulnerabilities;
  },
  normalize: normalizeGitlab,
  scanner: () => 'gitlab-secret-detection',
};
