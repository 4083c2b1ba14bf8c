import { InputError } from '@core/shared/errors';
import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Asset, Location, Severity } from '@core/finding/model';
import { recordParser } from './record-parser';
import { isoOrUndefined, leakObservation, leakTitle, normaliseImage, normaliseRepository } from './common';
import { idField, pathField, textField, urlField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

/**
 * One secret Trivy found: `Results[].Secrets[]` of Trivy's JSON (`trivy image|fs|repo|k8s
 * --format json`), or `report.secrets[]` of a Trivy Operator `ExposedSecretReport`. Trivy
 * always masks the match, so a secret gets a location identity: image (or workload) +
 * target + line + rule.
 */
export const TrivySecretSchema = z.object({
  RuleID: idField().min(1),
  Category: idField().optional(),
  Severity: z.string().optional(),
  Title: textField().optional(),
  StartLine: z.number().int().nonnegative().optional(),
  EndLine: z.number().int().nonnegative().optional(),
  Match: z.string().optional(),
  Layer: z.object({ Digest: z.string().optional(), DiffID: z.string().optional() }).optional(),
});

/** The Operator's spelling of the same secret. */
export const OperatorSecretSchema = z.object({
  ruleID: idField().min(1),
  category: idField().optional(),
  severity: z.string().optional(),
  title: textField().optional(),
  target: pathField().min(1),
  match: z.string().optional(),
});

/** A secret with what it needs from its report: the target file and what was scanned. */
interface TrivyRecord {
  __trivy: { asset: Asset; target?: string; workload?: string; reportedAt?: string; operator: boolean; skip?: string };
  result: unknown;
}

const SEVERITY: Record<string, Severity> = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low' };

const parseOperatorSecret = recordParser(OperatorSecretSchema);

const parseTrivySecret = recordParser(TrivySecretSchema);

export function normalizeTrivy(record: unknown, ctx: ParseContext): Normalized {
  const { __trivy: t, result } = record as TrivyRecord;
  if (t.skip) return { kind: 'skipped', reason: t.skip };
  let secret: { rule: string; title?: string; category?: string; severity?: string; target: string; line?: number };
  if (t.operator) {
    const parsed = parseOperatorSecret(result);
    if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
    const s = parsed.value;
    secret = { rule: s.ruleID, title: s.title, category: s.category, severity: s.severity, target: s.target };
  } else {
    const parsed = parseTrivySecret(result);
    if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
    const s = parsed.value;
    secret = {
      rule: s.RuleID,
      title: s.Title,
      category: s.Category,
      severity: s.Severity,
      target: t.target ?? '',
      line: s.StartLine,
    };
  }
  const asset: Asset = ctx.asset ? { type: 'repository', id: ctx.asset } : t.asset;
  const location: Location = { kind: 'file', path: secret.target };
  if (secret.line !== undefined) location.line = secret.line;
  if (asset.type === 'repository') location.repository = asset.id;
  if (t.workload) location.resource = t.workload;
  const name = secret.title ?? secret.rule;
  const severity = SEVERITY[(secret.severity ?? '').toUpperCase()];
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'trivy',
        scannerId: [asset.id, secret.target, secret.rule, secret.line ?? ''].join(':'),
        ruleId: secret.rule,
        title: leakTitle(name, secret.target),
        detector: secret.rule,
        nhiType: nhiTypeFromDetector(secret.rule, `${secret.category ?? ''} ${name}`.trim()),
        // No secret: Trivy masks every match.
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(t.reportedAt) ?? ctx.receivedAt,
        scannerSeverity: severity,
      },
      ctx,
    ),
  };
}

const ResultSchema = z.object({
  Target: pathField().optional(),
  Class: z.string().optional(),
  Secrets: z.array(z.unknown()).nullish(),
});

const ReportSchema = z.object({
  SchemaVersion: z.number().optional(),
  CreatedAt: z.string().optional(),
  ArtifactName: idField().optional(),
  ArtifactType: z.string().optional(),
  Metadata: z
    .object({
      RepoURL: urlField().optional(),
      RepoTags: z.array(z.string()).nullish(),
      RepoDigests: z.array(z.string()).nullish(),
    })
    .nullish(),
  Results: z.array(ResultSchema).nullish(),
});

const ImageMetadataSchema = z.object({
  RepoTags: z.array(z.string()).nullish(),
  RepoDigests: z.array(z.string()).nullish(),
});

const K8sResourceSchema = z.object({
  Namespace: idField().optional(),
  Kind: idField(),
  Name: idField(),
  // An array since Trivy 0.4x; one object before.
  Metadata: z.union([z.array(ImageMetadataSchema), ImageMetadataSchema]).nullish(),
  Results: z.array(ResultSchema).nullish(),
});

/** `trivy k8s --format json`: resources (or, before 0.4x, resources grouped by scanner). */
const K8sReportSchema = z.object({
  ClusterName: idField().optional(),
  Resources: z.array(K8sResourceSchema).nullish(),
  Findings: z.array(K8sResourceSchema).nullish(),
  Vulnerabilities: z.array(K8sResourceSchema).nullish(),
  Misconfigurations: z.array(K8sResourceSchema).nullish(),
  Secrets: z.array(K8sResourceSchema).nullish(),
});

const OperatorReportSchema = z.object({
  kind: z.string(),
  metadata: z
    .object({
      name: idField().optional(),
      namespace: idField().optional(),
      creationTimestamp: z.string().optional(),
      labels: z.record(z.string(), z.string()).nullish(),
    })
    .optional(),
  report: z
    .object({
      artifact: z.object({ repository: idField().optional(), tag: z.string().optional() }).optional(),
      registry: z.object({ server: idField().optional() }).optional(),
      updateTimestamp: z.string().optional(),
      secrets: z.array(z.unknown()).nullish(),
    })
    .optional(),
});

function secretsOf(
  results: Array<z.infer<typeof ResultSchema>> | null | undefined,
  context: Omit<TrivyRecord['__trivy'], 'target' | 'operator'>,
): TrivyRecord[] {
  const out: TrivyRecord[] = [];
  for (const r of results ?? []) {
    if (!r.Secrets || r.Secrets.length === 0) continue;
    const shared: TrivyRecord['__trivy'] = {
      ...context,
      operator: false,
      ...(r.Target !== undefined ? { target: r.Target } : {}),
    };
    for (const result of r.Secrets) out.push({ __trivy: shared, result });
  }
  return out;
}

function reportAsset(report: z.infer<typeof ReportSchema>): Asset {
  const name = report.ArtifactName;
  if (report.ArtifactType === 'container_image' && name) return { type: 'container_image', id: normaliseImage(name) };
  const repository =
    normaliseRepository(report.Metadata?.RepoURL) ??
    (name && /:\/\//.test(name) ? normaliseRepository(name) : undefined);
  if (repository) return { type: 'repository', id: repository };
  return { type: 'unspecified', id: 'unspecified' };
}

function operatorRecords(doc: unknown): TrivyRecord[] {
  const report = OperatorReportSchema.parse(doc);
  if (report.kind !== 'ExposedSecretReport')
    // A VulnerabilityReport, ConfigAuditReport…: not about secrets; one skip says so.
    return [
      {
        __trivy: {
          asset: { type: 'unspecified', id: 'unspecified' },
          operator: true,
          skip: `not a secret report (${report.kind})`,
        },
        result: { kind: report.kind },
      },
    ];
  if (!report.report) throw new InputError('an ExposedSecretReport without "report"');
  const labels = report.metadata?.labels ?? {};
  const repository = report.report.artifact?.repository;
  const server = report.report.registry?.server;
  const image = repository ? normaliseImage(server ? `${server}/${repository}` : repository) : undefined;
  const kind = labels['trivy-operator.resource.kind'];
  const name = labels['trivy-operator.resource.name'];
  const namespace = labels['trivy-operator.resource.namespace'] ?? report.metadata?.namespace;
  const container = labels['trivy-operator.container.name'];
  const workload =
    kind && name ? [namespace, kind, name].filter(Boolean).join('/') + (container ? `#${container}` : '') : undefined;
  const asset: Asset = image
    ? { type: 'container_image', id: image }
    : workload
      ? { type: 'kubernetes_workload', id: workload }
      : { type: 'unspecified', id: 'unspecified' };
  const reportedAt = report.report.updateTimestamp ?? report.metadata?.creationTimestamp;
  return (report.report.secrets ?? []).map((result) => ({
    __trivy: {
      asset,
      operator: true,
      ...(workload ? { workload } : {}),
      ...(reportedAt ? { reportedAt } : {}),
    },
    result,
  }));
}

function k8sRecords(doc: unknown): TrivyRecord[] {
  const report = K8sReportSchema.parse(doc);
  const cluster = report.ClusterName ?? '';
  const resources = [
    ...(report.Resources ?? []),
    ...(report.Findings ?? []),
    ...(report.Vulnerabilities ?? []),
    ...(report.Misconfigurations ?? []),
    ...(report.Secrets ?? []),
  ];
  return resources.flatMap((r) => {
    const metadata = Array.isArray(r.Metadata) ? r.Metadata : r.Metadata ? [r.Metadata] : [];
    const image = metadata.find((m) => m.RepoTags?.length)?.RepoTags?.[0];
    const workload = [cluster, r.Namespace, r.Kind, r.Name].filter(Boolean).join('/');
    const asset: Asset = image
      ? { type: 'container_image', id: normaliseImage(image) }
      : { type: 'kubernetes_workload', id: workload };
    return secretsOf(r.Results, { asset, workload });
  });
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isOperatorReport = (x: unknown) =>
  isObject(x) &&
  typeof x.apiVersion === 'string' &&
  x.apiVersion.startsWith('aquasecurity.github.io/') &&
  typeof x.kind === 'string';
/** A List, a bare array, or `kubectl get … -o json` of several kinds keyed by resource name. */
function operatorReports(x: unknown): unknown[] | undefined {
  if (Array.isArray(x)) return x.length > 0 && x.every(isOperatorReport) ? x : undefined;
  if (!isObject(x)) return undefined;
  if (
    Array.isArray(x.items) &&
    (x.kind === 'List' || /ReportList$/.test(String(x.kind))) &&
    x.items.every(isOperatorReport)
  )
    return x.items;
  const keyed = Object.entries(x).filter(([k]) => k.endsWith('.aquasecurity.github.io'));
  if (keyed.length > 0 && keyed.length === Object.keys(x).length && keyed.every(([, v]) => Array.isArray(v)))
    return keyed.flatMap(([, v]) => v as unknown[]).filter(isOperatorReport);
  return undefined;
}
const isK8sReport = (x: unknown) =>
  isObject(x) &&
  'ClusterName' in x &&
  ['Resources', 'Findings', 'Vulnerabilities', 'Misconfigurations', 'Secrets'].some((k) => k in x);
const isReport = (x: unknown) => isObject(x) && 'SchemaVersion' in x && ('ArtifactName' in x || 'Results' in x);
/** Before schema 2 (Trivy < 0.20) a report was a bare list of results; secrets came later, so none have any. */
const isLegacyReport = (x: unknown) =>
  Array.isArray(x) &&
  x.length > 0 &&
  isObject(x[0]) &&
  'Target' in x[0] &&
  ('Vulnerabilities' in x[0] || 'Type' in x[0]);

export const trivyFormat: SourceFormat = {
  name: 'trivy',
  label: 'Trivy JSON secrets (image, fs, repo, k8s) and Trivy Operator ExposedSecretReport (one or a List)',
  shape: 'document',
  detect: (doc) =>
    isOperatorReport(doc) ||
    operatorReports(doc) !== undefined ||
    isK8sReport(doc) ||
    isReport(doc) ||
    isLegacyReport(doc),
  records: (doc) => {
    if (isOperatorReport(doc)) return operatorRecords(doc);
    const reports = operatorReports(doc);
    if (reports) return reports.flatMap(operatorRecords);
    if (isK8sReport(doc)) return k8sRecords(doc);
    if (isReport(doc)) {
      const report = ReportSchema.parse(doc);
      return secretsOf(report.Results, {
        asset: reportAsset(report),
        ...(report.CreatedAt ? { reportedAt: report.CreatedAt } : {}),
      });
    }
    if (isLegacyReport(doc))
      return secretsOf(z.array(ResultSchema).parse(doc), { asset: { type: 'unspecified', id: 'unspecified' } });
    throw new InputError(
      'expected a Trivy JSON report (SchemaVersion, Results), a trivy k8s report or Trivy Operator reports',
    );
  },
  normalize: normalizeTrivy,
  // Only a report that looked for secrets is a clean scan of them: Trivy JSON (its default scanners
  // include secrets), or ExposedSecretReports; never an Operator report of another kind.
  scanner: (doc) => {
    const reports = isOperatorReport(doc) ? [doc] : operatorReports(doc);
    if (!reports) return 'trivy';
    return reports.some((r) => (r as { kind?: unknown }).kind === 'ExposedSecretReport') ? 'trivy' : undefined;
  },
};
