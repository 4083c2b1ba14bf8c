import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location, Severity } from '@core/finding/model';
import { isoOrUndefined, leakObservation, leakTitle, normaliseRepository, repositoryAsset } from './common';
import { recordParser } from './record-parser';
import { redactText } from '@core/shared/redaction';
import { idField, pathField, textField, urlField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

const RuleSchema = z.object({
  id: idField(),
  name: idField().optional(),
  shortDescription: z.object({ text: textField() }).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
type Rule = z.infer<typeof RuleSchema>;

const RunSchema = z.object({
  tool: z.object({
    driver: z.object({
      name: idField().min(1),
      semanticVersion: z.string().optional(),
      version: z.string().optional(),
      rules: z.array(RuleSchema).nullish(),
    }),
  }),
  results: z.array(z.unknown()).nullish(),
  versionControlProvenance: z
    .array(z.object({ repositoryUri: urlField().optional(), revisionId: idField().optional() }))
    .nullish(),
});

/** A SARIF 2.1.0 log. */
export const SarifLogSchema = z.object({
  version: z.string(),
  runs: z.array(RunSchema).nullish(),
});

/** One SARIF result, with the run context it needs. */
export const SarifResultSchema = z.object({
  ruleId: idField().min(1).optional(),
  ruleIndex: z.number().int().optional(),
  rule: z.object({ id: idField().optional(), index: z.number().int().optional() }).optional(),
  kind: z.string().optional(),
  level: z.enum(['none', 'note', 'warning', 'error']).optional(),
  baselineState: z.string().optional(),
  message: z.object({ text: textField().optional() }),
  locations: z
    .array(
      z.object({
        physicalLocation: z.object({
          artifactLocation: z.object({ uri: pathField().min(1) }),
          region: z
            .object({
              startLine: z.number().int().nonnegative().optional(),
              snippet: z.object({ text: textField() }).optional(),
            })
            .optional(),
        }),
      }),
    )
    .min(1),
  // Only the keys closeloop reads: a record schema would walk every key of every result.
  partialFingerprints: z.object({ commitSha: idField().optional() }).optional(),
  suppressions: z.array(z.object({ status: z.string().optional() })).nullish(),
  properties: z
    .object({ offender: z.string().optional(), commit: idField().optional(), date: z.string().optional() })
    .optional(),
});

/** A result carried with what it needs from its run (the tool, its rules, the repository). */
interface SarifRecord {
  __sarifRun: {
    tool: string;
    toolVersion?: string;
    /** The whole run comes from a secret scanner (by its driver name). */
    secretScanner: boolean;
    /** The scanner as observations name it (`gitleaks`, `secretlint`…). */
    scanner: string;
    /** gitleaks 8 puts the secret itself in the snippet. */
    snippetIsSecret: boolean;
    rules: Rule[];
    /** The rules by id: results name theirs, and a run can have hundreds. */
    ruleById: Map<string, Rule>;
    repository?: string;
    revision?: string;
  };
  result: unknown;
}

/**
 * Tools whose every result is a secret, matched on `tool.driver.name` with case, spaces and
 * punctuation ignored. Everything else counts only where the rule says secret or credential.
 */
const SECRET_SCANNERS = [
  'gitleaks',
  'secretlint',
  'ggshield',
  'gitguardian',
  'trufflehog',
  'detectsecrets',
  'noseyparker',
  'kingfisher',
  'titus',
  'gitsecrets',
  'whispers',
  'talisman',
  'credscan',
  'deepsecrets',
  'ripsecrets',
  'betterleaks',
  'secretscanner',
];

const normaliseToolName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** True for a tool that only finds secrets (gitleaks, secretlint, ggshield, TruffleHog, …). */
export function isSecretScanner(toolName: string): boolean {
  const n = normaliseToolName(toolName);
  return SECRET_SCANNERS.some((s) => n === s || n.startsWith(s));
}

/**
 * Words and weaknesses that make a rule a secret detector: secret(s), credential(s), and the
 * hard-coded credential CWEs (798, 259). "password" alone is not enough: CodeQL's
 * `js/insufficient-password-hash` is not a leak.
 */
const SECRET_WORDS = /(^|[^a-z])(secrets?|credentials?|cwe-(798|259))([^a-z0-9]|$)/i;
/** Property keys that are prose, not classification: a description mentioning "secrets" says nothing. */
const PROSE_KEYS = new Set(['description', 'fulldescription', 'help', 'helpuri', 'text', 'markdown', 'message']);

function propertyWords(properties: Record<string, unknown> | undefined): string[] {
  if (!properties) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(properties)) {
    if (PROSE_KEYS.has(key.toLowerCase())) continue;
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') out.push(v);
  }
  return out;
}

/** Whether a result's rule (its id, name, tags or other properties) says it finds secrets. */
function ruleFindsSecrets(ruleId: string | undefined, rule: Rule | undefined, props: Record<string, unknown>) {
  const words = [
    ruleId ?? '',
    rule?.id ?? '',
    rule?.name ?? '',
    ...propertyWords(rule?.properties),
    ...propertyWords(props),
  ];
  return words.some((w) => SECRET_WORDS.test(w));
}

const redactedTitles = new Map<string, string>();

/** A rule's description, redacted: rules repeat over a run's results, so each is redacted once. */
function redactedOnce(text: string): string {
  let redacted = redactedTitles.get(text);
  if (redacted === undefined) {
    if (redactedTitles.size > 10_000) redactedTitles.clear();
    redacted = redactText(text);
    redactedTitles.set(text, redacted);
  }
  return redacted;
}

const LEVEL_SEVERITY: Record<string, Severity> = { error: 'high', warning: 'medium', note: 'low', none: 'info' };

const parseSarifResult = recordParser(SarifResultSchema);

export function normalizeSarif(record: unknown, ctx: ParseContext): Normalized {
  const { __sarifRun: run, result } = record as SarifRecord;
  if (!run.secretScanner && typeof result === 'object' && result !== null && !Array.isArray(result)) {
    // Decided before the result is validated: a CodeQL result is skipped, not rejected.
    const raw = result as { ruleId?: unknown; ruleIndex?: unknown; properties?: unknown; rule?: { index?: unknown } };
    const index = typeof raw.ruleIndex === 'number' ? raw.ruleIndex : raw.rule?.index;
    const ruleId = typeof raw.ruleId === 'string' ? raw.ruleId : undefined;
    const rule = ruleId ? run.ruleById.get(ruleId) : typeof index === 'number' ? run.rules[index] : undefined;
    const props = (typeof raw.properties === 'object' && raw.properties !== null ? raw.properties : {}) as Record<
      string,
      unknown
    >;
    if (!ruleFindsSecrets(ruleId, rule, props))
      return { kind: 'skipped', reason: `not from a secret detector (${run.tool})` };
  }
  const parsed = parseSarifResult(result);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const r = parsed.value;
  if (r.kind && r.kind !== 'fail') return { kind: 'skipped', reason: `result kind ${r.kind}` };
  if (r.baselineState === 'absent') return { kind: 'skipped', reason: 'absent from this run (baselineState)' };
  if ((r.suppressions ?? []).some((s) => s.status === undefined || s.status === 'accepted'))
    return { kind: 'skipped', reason: 'suppressed' };
  const explicitId = r.ruleId ?? r.rule?.id;
  const index = r.ruleIndex ?? r.rule?.index;
  const rule = explicitId ? run.ruleById.get(explicitId) : index !== undefined ? run.rules[index] : undefined;
  // gitleaks 7 puts the rule in the message only; its result has no ruleId. A message is
  // free text that may quote what was found, so it is redacted before it names anything.
  const ruleId =
    explicitId ??
    rule?.id ??
    (r.message.text ? redactText(r.message.text.replace(/ secret detected$/i, '')) : 'unknown-rule');
  const physical = r.locations[0]!.physicalLocation;
  const uri = physical.artifactLocation.uri;
  const path = uri.startsWith('file://') ? uri.slice(7) : uri;
  const line = physical.region?.startLine;
  const props = r.properties ?? {};
  const commit = r.partialFingerprints?.commitSha ?? props.commit ?? run.revision;
  const asset = repositoryAsset(run.repository, ctx);
  const isGitleaks = run.scanner === 'gitleaks';
  // Where the secret is: gitleaks 7 `properties.offender`; gitleaks 8 the snippet itself.
  // Other tools put the surrounding line in the snippet (or mask it): no secret, so the
  // location identity is used.
  const secret = props.offender ?? (run.snippetIsSecret ? physical.region?.snippet?.text : undefined);
  // Built by assignment rather than conditional spreads: this runs once per result.
  const location: Location = { kind: commit ? 'commit' : 'file', path };
  if (asset.type === 'repository') location.repository = asset.id;
  if (line !== undefined) location.line = line;
  if (commit) location.commit = commit;
  const what = rule?.shortDescription?.text ?? rule?.name ?? ruleId;
  const scanner = run.scanner;
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner,
        scannerId: [ruleId, commit ?? '', path, line ?? ''].join(':'),
        ruleId,
        title: leakTitle(what.length <= 80 ? redactedOnce(what) : ruleId, path),
        detector: ruleId,
        nhiType: nhiTypeFromDetector(ruleId, what),
        secret,
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(props.date) ?? ctx.receivedAt,
        scannerSeverity: r.level && !isGitleaks ? LEVEL_SEVERITY[r.level] : undefined,
      },
      ctx,
    ),
  };
}

type SarifLog = z.infer<typeof SarifLogSchema>;
/** The log around the results (compiled: `records` and `scanner` each read it). */
const compiledSarifLog = z.compile(SarifLogSchema);

function runContexts(log: SarifLog): SarifRecord['__sarifRun'][] {
  return (log.runs ?? []).map((run) => {
    const provenance = run.versionControlProvenance?.[0];
    const toolVersion = run.tool.driver.semanticVersion ?? run.tool.driver.version;
    const isGitleaks = normaliseToolName(run.tool.driver.name) === 'gitleaks';
    return {
      tool: run.tool.driver.name,
      toolVersion,
      secretScanner: isSecretScanner(run.tool.driver.name),
      scanner: isGitleaks ? 'gitleaks' : run.tool.driver.name.toLowerCase(),
      snippetIsSecret: isGitleaks && !/^v?7\./.test(toolVersion ?? ''),
      rules: run.tool.driver.rules ?? [],
      ruleById: new Map((run.tool.driver.rules ?? []).map((rule) => [rule.id, rule])),
      ...(provenance?.repositoryUri ? { repository: normaliseRepository(provenance.repositoryUri) } : {}),
      ...(provenance?.revisionId ? { revision: provenance.revisionId } : {}),
    };
  });
}

export const sarifFormat: SourceFormat = {
  name: 'sarif',
  label: 'SARIF 2.1.0 of secret detectors (gitleaks, secretlint, ggshield, TruffleHog, Trivy secrets, …)',
  shape: 'document',
  detect: (doc) =>
    typeof doc === 'object' &&
    doc !== null &&
    !Array.isArray(doc) &&
    Array.isArray((doc as { runs?: unknown }).runs) &&
    'version' in doc,
  records: (doc) => {
    const log = compiledSarifLog.parse(doc);
    const contexts = runContexts(log);
    return (log.runs ?? []).flatMap((run, i) =>
      (run.results ?? []).map((result): SarifRecord => ({ __sarifRun: contexts[i]!, result })),
    );
  },
  normalize: normalizeSarif,
  // A clean scan names its scanner only when every run is one secret scanner.
  scanner: (doc) => {
    const tools = new Set(
      runContexts(compiledSarifLog.parse(doc))
        .filter((r) => r.secretScanner)
        .map((r) => r.scanner),
    );
    return tools.size === 1 ? [...tools][0] : undefined;
  },
};
