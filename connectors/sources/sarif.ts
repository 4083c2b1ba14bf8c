import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location, Severity } from '@core/finding/model';
import { isoOrUndefined, leakObservation, leakTitle, normaliseRepository, repositoryAsset } from './common';
import { parseRecord } from '@core/shared/problems';
import { redactText } from '@core/shared/redaction';
import type { Normalized, ParseContext, SourceFormat } from './types';

const RuleSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  shortDescription: z.object({ text: z.string() }).optional(),
});

const RunSchema = z.object({
  tool: z.object({
    driver: z.object({
      name: z.string().min(1),
      semanticVersion: z.string().optional(),
      version: z.string().optional(),
      rules: z.array(RuleSchema).optional(),
    }),
  }),
  results: z.array(z.unknown()).nullish(),
  versionControlProvenance: z
    .array(z.object({ repositoryUri: z.string().optional(), revisionId: z.string().optional() }))
    .optional(),
});

/** A SARIF 2.1.0 log. */
export const SarifLogSchema = z.object({
  version: z.string(),
  runs: z.array(RunSchema),
});

/** One SARIF result, with the run context it needs. */
export const SarifResultSchema = z.object({
  ruleId: z.string().min(1).optional(),
  ruleIndex: z.number().int().optional(),
  level: z.enum(['none', 'note', 'warning', 'error']).optional(),
  message: z.object({ text: z.string().optional() }),
  locations: z
    .array(
      z.object({
        physicalLocation: z.object({
          artifactLocation: z.object({ uri: z.string().min(1) }),
          region: z
            .object({
              startLine: z.number().int().nonnegative().optional(),
              snippet: z.object({ text: z.string() }).optional(),
            })
            .optional(),
        }),
      }),
    )
    .min(1),
  partialFingerprints: z.record(z.string(), z.string()).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

/** A result carried with what it needs from its run (the tool, its rules, the repository). */
interface SarifRecord {
  __sarifRun: {
    tool: string;
    toolVersion?: string;
    rules: z.infer<typeof RuleSchema>[];
    repository?: string;
    revision?: string;
  };
  result: unknown;
}

const LEVEL_SEVERITY: Record<string, Severity> = { error: 'high', warning: 'medium', note: 'low', none: 'info' };

export function normalizeSarif(record: unknown, ctx: ParseContext): Normalized {
  const { __sarifRun: run, result } = record as SarifRecord;
  const parsed = parseRecord(SarifResultSchema, result);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const r = parsed.value;
  const rule = r.ruleId
    ? run.rules.find((x) => x.id === r.ruleId)
    : r.ruleIndex !== undefined
      ? run.rules[r.ruleIndex]
      : undefined;
  // gitleaks 7 puts the rule in the message only; its result has no ruleId. A message is
  // free text that may quote what was found, so it is redacted before it names anything.
  const ruleId =
    r.ruleId ??
    rule?.id ??
    (r.message.text ? redactText(r.message.text.replace(/ secret detected$/i, '')) : 'unknown-rule');
  const physical = r.locations[0]!.physicalLocation;
  const path = physical.artifactLocation.uri.replace(/^file:\/\//, '');
  const line = physical.region?.startLine;
  const props = r.properties ?? {};
  const commit =
    r.partialFingerprints?.commitSha ?? (typeof props.commit === 'string' ? props.commit : undefined) ?? run.revision;
  const asset = repositoryAsset(run.repository, ctx);
  const isGitleaks = run.tool.toLowerCase() === 'gitleaks';
  // Where the secret is: gitleaks 7 `properties.offender`; gitleaks 8 the snippet itself.
  // Other tools put the surrounding line in the snippet (or mask it): no secret, fall back
  // to the location fingerprint.
  const gitleaks8 = isGitleaks && /^v?8/.test(run.toolVersion ?? '') && typeof props.offender !== 'string';
  const secret =
    typeof props.offender === 'string' ? props.offender : gitleaks8 ? physical.region?.snippet?.text : undefined;
  const location: Location = {
    kind: commit ? 'commit' : 'file',
    ...(asset.type === 'repository' ? { repository: asset.id } : {}),
    path,
    ...(line !== undefined ? { line } : {}),
    ...(commit ? { commit } : {}),
  };
  const what = rule?.shortDescription?.text ?? rule?.name ?? ruleId;
  const scanner = isGitleaks ? 'gitleaks' : run.tool.toLowerCase();
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner,
        scannerId: [ruleId, commit ?? '', path, line ?? ''].join(':'),
        ruleId,
        title: leakTitle(what.length <= 80 ? what : ruleId, path),
        detector: ruleId,
        nhiType: nhiTypeFromDetector(ruleId, what),
        secret,
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(typeof props.date === 'string' ? props.date : undefined) ?? ctx.receivedAt,
        fallbackIdentity: [asset.id, path, String(line ?? '')],
        ...(r.level && !isGitleaks ? { scannerSeverity: LEVEL_SEVERITY[r.level] } : {}),
      },
      ctx,
    ),
  };
}

export const sarifFormat: SourceFormat = {
  name: 'sarif',
  label: 'SARIF 2.1.0 (gitleaks, secretlint, ggshield and other secret scanners)',
  shape: 'document',
  detect: (doc) =>
    typeof doc === 'object' &&
    doc !== null &&
    !Array.isArray(doc) &&
    Array.isArray((doc as { runs?: unknown }).runs) &&
    'version' in doc,
  records: (doc) => {
    const log = SarifLogSchema.parse(doc);
    return log.runs.flatMap((run) => {
      const provenance = run.versionControlProvenance?.[0];
      const context: SarifRecord['__sarifRun'] = {
        tool: run.tool.driver.name,
        toolVersion: run.tool.driver.semanticVersion ?? run.tool.driver.version,
        rules: run.tool.driver.rules ?? [],
        ...(provenance?.repositoryUri ? { repository: normaliseRepository(provenance.repositoryUri) } : {}),
        ...(provenance?.revisionId ? { revision: provenance.revisionId } : {}),
      };
      return (run.results ?? []).map((result): SarifRecord => ({ __sarifRun: context, result }));
    });
  },
  normalize: normalizeSarif,
};
