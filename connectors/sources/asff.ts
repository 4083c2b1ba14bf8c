import { z } from 'zod';
import { NIST_CSF_BY_KIND, OWASP_NHI_BY_KIND, type ExposureKind } from '@core/finding/standards';
import { sha256Of } from '@core/finding/identity';
import type { NhiType, Observation, Severity } from '@core/finding/model';
import { isoOrUndefined } from './common';
import { parseRecord } from '@core/shared/problems';
import { redactText } from '@core/shared/redaction';
import { truncate } from '@core/shared/text';
import type { Normalized, ParseContext, SourceFormat } from './types';

/** An AWS Security Finding Format finding (the fields closeloop reads). */
export const AsffFindingSchema = z.object({
  SchemaVersion: z.string().optional(),
  Id: z.string().min(1),
  ProductArn: z.string().min(1),
  ProductName: z.string().optional(),
  GeneratorId: z.string().min(1),
  AwsAccountId: z.string().min(1),
  Types: z.array(z.string()).optional(),
  FirstObservedAt: z.string().optional(),
  CreatedAt: z.string().optional(),
  UpdatedAt: z.string().optional(),
  Severity: z
    .object({
      Label: z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).optional(),
      Normalized: z.number().optional(),
    })
    .optional(),
  Title: z.string().min(1),
  Description: z.string().optional(),
  ProductFields: z.record(z.string(), z.string()).optional(),
  Resources: z
    .array(z.object({ Type: z.string().min(1), Id: z.string().min(1), Region: z.string().optional() }))
    .min(1),
  Compliance: z.object({ Status: z.string().optional() }).optional(),
  RecordState: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  Workflow: z.object({ Status: z.string().optional() }).optional(),
});
type AsffFinding = z.infer<typeof AsffFindingSchema>;

interface Classification {
  kind: ExposureKind;
  nhiType: NhiType;
  /** A short, stable name of the issue, so two products reporting it correlate. */
  issue: string;
}

/**
 * Which ASFF findings are about non-human identities. Matched on the control or check id
 * (Security Hub controls, CIS, Prowler), the finding type (GuardDuty) and the product
 * (IAM Access Analyzer). Everything else is skipped and counted.
 */
const RULES: Array<{ test: (f: AsffFinding, text: string) => boolean; classification: Classification }> = [
  {
    test: (f) => f.ProductArn.includes('/access-analyzer') && /unused/i.test(`${f.Types?.join(' ')} ${f.Title}`),
    classification: { kind: 'unused_credential', nhiType: 'service_account', issue: 'unused-access' },
  },
  {
    test: (f) => f.ProductArn.includes('/access-analyzer'),
    classification: { kind: 'excessive_access', nhiType: 'service_account', issue: 'external-access' },
  },
  {
    test: (_f, t) =>
      /\biam\.3\b|iam_rotate_access_key|access keys? (are|should be) rotated|rotate.*access key/i.test(t),
    classification: { kind: 'stale_credential', nhiType: 'cloud_access_key', issue: 'access-key-not-rotated' },
  },
  {
    test: (_f, t) =>
      /\biam\.(8|22)\b|iam_disable_\d+_days_credentials|unused (iam user )?credentials|credentials unused/i.test(t),
    classification: { kind: 'unused_credential', nhiType: 'cloud_access_key', issue: 'unused-credentials' },
  },
  {
    test: (_f, t) => /\biam\.4\b|iam_no_root_access_key|root (user )?access key/i.test(t),
    classification: { kind: 'root_credential', nhiType: 'cloud_access_key', issue: 'root-access-key' },
  },
  {
    test: (_f, t) => /iam_user_two_active_access_key|two active access keys|more than one active access key/i.test(t),
    classification: { kind: 'multiple_active_keys', nhiType: 'cloud_access_key', issue: 'multiple-active-keys' },
  },
  {
    test: (f) =>
      f.Resources.some((r) => r.Type === 'AwsIamAccessKey') ||
      (f.Types ?? []).some((t) => /IAMUser|CredentialAccess|InstanceCredentialExfiltration/.test(t)),
    classification: { kind: 'anomalous_use', nhiType: 'cloud_access_key', issue: 'anomalous-credential-use' },
  },
];

const SEVERITY: Record<string, Severity> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MEDIUM: 'medium',
  LOW: 'low',
  INFORMATIONAL: 'info',
};

function productOf(f: AsffFinding): string {
  const name = f.ProductName ?? f.ProductArn.split('/').slice(-1)[0] ?? 'security-hub';
  return name.toLowerCase().replace(/\s+/g, '-');
}

export function normalizeAsff(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseRecord(AsffFindingSchema, record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const f = parsed.value;
  const controlId = f.ProductFields?.ControlId ?? f.ProductFields?.RuleId ?? f.GeneratorId;
  const text = `${controlId} ${f.GeneratorId} ${f.Title} ${(f.Types ?? []).join(' ')}`;
  const rule = RULES.find((r) => r.test(f, text));
  if (!rule) return { kind: 'skipped', reason: 'not a non-human-identity finding' };
  if (f.RecordState === 'ARCHIVED') return { kind: 'skipped', reason: 'archived' };
  if (f.Compliance?.Status === 'PASSED') return { kind: 'skipped', reason: 'control passed' };
  const { kind, nhiType, issue } = rule.classification;
  const resource = f.Resources.find((r) => r.Type.startsWith('AwsIam')) ?? f.Resources[0]!;
  const product = productOf(f);
  const resolvedAtSource = f.Workflow?.Status === 'RESOLVED' || f.Workflow?.Status === 'SUPPRESSED';
  const observation: Observation = {
    // Same resource + same issue = same finding, whichever product reported it.
    fingerprint: `aws:${sha256Of(f.AwsAccountId, resource.Id, issue)}`,
    // Any product can send findings to Security Hub, and a title is free text: it may quote
    // what was found, so it is redacted before it reaches tickets, the CMDB and reports.
    title: truncate(redactText(f.Title), 300),
    nhiType,
    detector: controlId,
    severity: SEVERITY[f.Severity?.Label ?? ''] ?? 'medium',
    validity:
      kind === 'anomalous_use' ||
      kind === 'stale_credential' ||
      kind === 'multiple_active_keys' ||
      kind === 'root_credential'
        ? 'active'
        : 'unknown',
    publiclyExposed: false,
    asset: ctx.asset
      ? { type: 'repository', id: ctx.asset }
      : { type: 'aws_resource', id: resource.Id, account: f.AwsAccountId },
    locations: [{ kind: 'resource', resource: resource.Id }],
    source: {
      scanner: product,
      scannerId: f.Id,
      ruleId: controlId,
      firstReportedAt: isoOrUndefined(f.FirstObservedAt ?? f.CreatedAt) ?? ctx.receivedAt,
      state: resolvedAtSource ? 'resolved' : 'open',
    },
    owaspNhi: OWASP_NHI_BY_KIND[kind],
    nistCsf: NIST_CSF_BY_KIND[kind],
    aliasKey: `asff:${f.Id}`,
  };
  return { kind: 'observation', observation };
}

const looksLikeFinding = (x: unknown) => typeof x === 'object' && x !== null && 'ProductArn' in x && 'GeneratorId' in x;
const isEvent = (x: unknown): x is { 'detail-type': string; detail: { findings: unknown[] } } =>
  typeof x === 'object' && x !== null && 'detail-type' in x && 'detail' in x;

export const asffFormat: SourceFormat = {
  name: 'asff',
  label:
    'AWS Security Hub ASFF: a list, {"Findings": [...]}, one finding, or the EventBridge "Security Hub Findings - Imported" event',
  shape: 'document',
  detect: (doc) => {
    if (isEvent(doc)) return doc['detail-type'].startsWith('Security Hub Findings');
    if (looksLikeFinding(doc)) return true;
    const list = Array.isArray(doc) ? doc : (doc as { Findings?: unknown })?.Findings;
    return Array.isArray(list) && list.length > 0 && looksLikeFinding(list[0]);
  },
  records: (doc) => {
    if (isEvent(doc)) return Array.isArray(doc.detail?.findings) ? doc.detail.findings : [];
    if (Array.isArray(doc)) return doc;
    if (looksLikeFinding(doc)) return [doc];
    return ((doc as { Findings?: unknown[] }).Findings ?? []) as unknown[];
  },
  normalize: normalizeAsff,
};
