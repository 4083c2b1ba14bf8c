import { InputError } from '@core/shared/errors';
import { z } from 'zod';
import type { Severity, SourceRef } from '@core/finding/model';
import { WRITEBACK_MARK } from '@core/writeback/model';
import { recordParser } from './record-parser';
import { isoOrUndefined } from './common';
import { classifyCheck } from './nhi-checks';
import { postureObservation } from './posture';
import { idField, textField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

const TimeSchema = z.union([z.number(), z.string()]).optional();

const FindingInfoSchema = z.object({
  uid: idField().min(1),
  title: textField().optional(),
  desc: z.string().optional(),
  types: z.array(z.string()).nullish(),
  created_time: TimeSchema,
  created_time_dt: z.string().optional(),
  first_seen_time_dt: z.string().optional(),
  analytic: z.object({ uid: idField().optional(), name: idField().optional() }).nullish(),
});

const ResourceSchema = z.object({
  uid: idField().optional(),
  uid_alt: idField().optional(),
  name: idField().optional(),
  type: z.string().optional(),
  region: z.string().optional(),
  namespace: idField().optional(),
});

/**
 * An OCSF finding: Detection Finding (2004) and Compliance Finding (2003) as Prowler 4/5
 * (JSON-OCSF) and the new Security Hub (EventBridge "Findings Imported V2", GetFindingsV2)
 * write them, and Prowler 3's Security Finding (2001, `finding` instead of `finding_info`).
 */
export const OcsfFindingSchema = z
  .object({
    class_uid: z.number().int().optional(),
    class_name: z.string().optional(),
    activity_id: z.number().int().optional(),
    activity_name: z.string().optional(),
    status: z.string().optional(),
    status_id: z.number().int().optional(),
    status_code: z.string().optional(),
    status_detail: textField().optional(),
    severity: z.string().optional(),
    severity_id: z.number().int().optional(),
    time: TimeSchema,
    time_dt: z.string().optional(),
    /** A user's comment on a Security Hub finding (closeloop's write-back sets it). */
    comment: z.string().optional(),
    metadata: z.object({
      event_code: idField().optional(),
      product: z
        .object({
          name: idField().optional(),
          uid: idField().optional(),
          feature: z.object({ uid: idField().optional(), name: idField().optional() }).optional(),
        })
        .optional(),
    }),
    finding_info: FindingInfoSchema.optional(),
    finding: FindingInfoSchema.optional(),
    compliance: z
      .object({
        status: z.string().optional(),
        status_id: z.number().int().optional(),
        control: idField().optional(),
      })
      .optional(),
    resources: z.array(ResourceSchema).min(1),
    cloud: z
      .object({
        provider: idField().optional(),
        account: z.object({ uid: idField().optional() }).nullish(),
        project_uid: idField().optional(),
        region: z.string().optional(),
      })
      .optional(),
    unmapped: z.object({ provider: z.unknown().optional(), provider_uid: z.unknown().optional() }).nullish(),
  })
  .refine((f) => f.finding_info !== undefined || f.finding !== undefined, {
    message: 'is required',
    path: ['finding_info'],
  });
type OcsfFinding = z.infer<typeof OcsfFindingSchema>;

const SEVERITY: Record<string, Severity> = {
  fatal: 'critical',
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
  informational: 'info',
  info: 'info',
};
const SEVERITY_BY_ID: Record<number, Severity> = {
  1: 'info',
  2: 'low',
  3: 'medium',
  4: 'high',
  5: 'critical',
  6: 'critical',
};

/** Classes that are never about identities: vulnerabilities (Inspector), data security (Macie). */
const OTHER_CLASSES = new Set([2002, 2006]);

/** The check's own verdict: only a failed check is a finding. */
function verdict(f: OcsfFinding): 'fail' | 'pass' | 'manual' | 'unknown' {
  const code = (f.status_code ?? f.compliance?.status ?? '').toLowerCase();
  if (/^(fail|failed|failure)$/.test(code)) return 'fail';
  if (/^(pass|passed|success)$/.test(code)) return 'pass';
  if (code === 'manual') return 'manual';
  // Prowler 3 spells its verdict in `status`; detections without a verdict are findings.
  const status = (f.status ?? '').toLowerCase();
  if (status === 'failure') return 'fail';
  if (status === 'success') return 'pass';
  return f.status_code === undefined && f.compliance?.status === undefined ? 'fail' : 'unknown';
}

const productName = (f: OcsfFinding) => (f.metadata.product?.name ?? 'ocsf').toLowerCase();

const parseOcsfFinding = recordParser(OcsfFindingSchema);

export function normalizeOcsf(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseOcsfFinding(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const f = parsed.value;
  const info = (f.finding_info ?? f.finding)!;
  if (f.class_uid !== undefined && OTHER_CLASSES.has(f.class_uid))
    return { kind: 'skipped', reason: 'not a non-human-identity finding' };
  const checkId =
    f.metadata.event_code ??
    f.metadata.product?.feature?.uid ??
    f.compliance?.control ??
    info.analytic?.uid ??
    info.types?.[0] ??
    info.uid;
  const product = productName(f);
  // The resource an ARN names (an IAM user rather than the access key GuardDuty also lists), else the first.
  const arnOf = (r: z.infer<typeof ResourceSchema>) => [r.uid, r.uid_alt].find((id) => id?.startsWith('arn:'));
  const resource = f.resources.find((r) => arnOf(r) !== undefined) ?? f.resources[0]!;
  const resourceId = arnOf(resource) ?? resource.uid ?? resource.uid_alt;
  const classification = classifyCheck({
    product,
    checkId,
    text: `${checkId} ${f.compliance?.control ?? ''} ${info.title ?? ''} ${(info.types ?? []).join(' ')}`,
    types: info.types ?? [],
    resourceTypes: f.resources.map((r) => r.type ?? ''),
  });
  if (!classification) return { kind: 'skipped', reason: 'not a non-human-identity finding' };
  const v = verdict(f);
  if (v === 'pass') return { kind: 'skipped', reason: 'check passed' };
  if (v === 'manual') return { kind: 'skipped', reason: 'manual check' };
  if (v === 'unknown')
    return { kind: 'skipped', reason: `no failed verdict (${f.status_code ?? f.compliance?.status})` };
  if (f.activity_id === 3 || f.activity_name?.toLowerCase() === 'close') return { kind: 'skipped', reason: 'closed' };
  if (!resourceId) return { kind: 'rejected', problems: ['"resources[0].uid" is required'] };
  const unmapped = f.unmapped ?? {};
  const provider = (
    f.cloud?.provider ??
    (typeof unmapped.provider === 'string' ? unmapped.provider : undefined) ??
    (resourceId.startsWith('arn:') || product.includes('security hub') ? 'aws' : 'unknown')
  ).toLowerCase();
  const account =
    f.cloud?.account?.uid ||
    f.cloud?.project_uid ||
    (typeof unmapped.provider_uid === 'string' ? unmapped.provider_uid : undefined) ||
    /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(resourceId)?.[1] ||
    '';
  const status = (f.status ?? '').toLowerCase();
  const observation = postureObservation(
    {
      classification,
      provider,
      account,
      resource:
        resource.namespace && !resourceId.includes(resource.namespace)
          ? `${resource.namespace}/${resourceId}`
          : resourceId,
      title: info.title ?? f.status_detail ?? checkId,
      detector: checkId,
      severity: SEVERITY[(f.severity ?? '').toLowerCase()] ?? SEVERITY_BY_ID[f.severity_id ?? 0] ?? 'medium',
      scanner: product.replace(/\s+/g, '-'),
      scannerId: info.uid,
      firstReportedAt:
        isoOrUndefined(info.first_seen_time_dt ?? info.created_time_dt ?? timeString(info.created_time)) ??
        isoOrUndefined(f.time_dt ?? timeString(f.time)) ??
        ctx.receivedAt,
      // Muted in Prowler, suppressed or resolved in Security Hub. Not by status_id: Prowler 4.2
      // writes status_id 3 with status "New".
      resolvedAtSource:
        (status === 'suppressed' || status === 'resolved') && !(f.comment ?? '').startsWith(WRITEBACK_MARK),
      aliasKey: `ocsf:${info.uid}`,
      ...securityHubRecord(f, info.uid),
    },
    ctx,
  );
  return { kind: 'observation', observation };
}

/**
 * A finding of the new Security Hub, which BatchUpdateFindingsV2 can update: its product uid is an
 * ARN (`arn:aws:securityhub:…:productv2/aws/guardduty`) and it names its account. Prowler's own
 * JSON-OCSF files (product uid `prowler`) never reached Security Hub, so they get no record.
 */
function securityHubRecord(f: OcsfFinding, findingUid: string): { ref?: SourceRef } {
  const productUid = f.metadata.product?.uid;
  const accountUid = f.cloud?.account?.uid;
  if (!productUid?.startsWith('arn:') || !accountUid) return {};
  return { ref: { system: 'securityhub_v2', productUid, accountUid, findingUid } };
}

/** OCSF times are epoch seconds or milliseconds, or ISO strings. */
function timeString(value: number | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return new Date(value < 1e11 ? value * 1000 : value).toISOString();
}

const looksLikeOcsf = (x: unknown): boolean =>
  typeof x === 'object' &&
  x !== null &&
  'metadata' in x &&
  'resources' in x &&
  ('finding_info' in x || 'finding' in x || 'class_uid' in x);

const isV2Event = (x: unknown): x is { 'detail-type': string; detail?: { findings?: unknown } } =>
  typeof x === 'object' &&
  x !== null &&
  (x as { 'detail-type'?: unknown })['detail-type'] === 'Findings Imported V2' &&
  'detail' in x;

/** `{"Findings": [...]}` of GetFindingsV2 (or lower-case `findings`). */
function findingsList(doc: unknown): unknown[] | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const d = doc as { Findings?: unknown; findings?: unknown };
  const list = d.Findings ?? d.findings;
  return Array.isArray(list) ? list : undefined;
}

export const ocsfFormat: SourceFormat = {
  name: 'ocsf',
  label:
    'OCSF findings: Prowler JSON-OCSF (v3, v4, v5), the new Security Hub\'s EventBridge "Findings Imported V2" event and GetFindingsV2 results',
  shape: 'document',
  detect: (doc) => {
    if (isV2Event(doc)) return true;
    if (looksLikeOcsf(doc)) return true;
    const list = Array.isArray(doc) ? doc : findingsList(doc);
    return Array.isArray(list) && list.length > 0 && looksLikeOcsf(list[0]);
  },
  records: (doc) => {
    if (isV2Event(doc)) {
      const findings = doc.detail?.findings;
      if (!Array.isArray(findings)) throw new InputError('"detail.findings" must be an array');
      return findings;
    }
    if (Array.isArray(doc)) return doc;
    if (looksLikeOcsf(doc)) return [doc];
    const list = findingsList(doc);
    if (!list)
      throw new InputError('expected a list of OCSF findings, {"Findings": [...]} or a "Findings Imported V2" event');
    return list;
  },
  normalize: normalizeOcsf,
};
