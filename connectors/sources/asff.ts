import { InputError } from '@core/shared/errors';
import { z } from 'zod';
import type { Severity } from '@core/finding/model';
import { WRITEBACK_AUTHOR } from '@core/writeback/model';
import { isoOrUndefined } from './common';
import { recordParser } from './record-parser';
import { classifyCheck } from './nhi-checks';
import { postureObservation } from './posture';
import { idField, textField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

/** An AWS Security Finding Format finding (the fields closeloop reads). */
export const AsffFindingSchema = z.object({
  SchemaVersion: z.string().optional(),
  Id: idField().min(1),
  ProductArn: idField().min(1),
  ProductName: idField().optional(),
  GeneratorId: idField().min(1),
  AwsAccountId: idField().min(1),
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
  Title: textField().min(1),
  Description: z.string().optional(),
  // Only the keys closeloop reads: a record schema would walk every product field of every finding.
  ProductFields: z.object({ ControlId: idField().optional(), RuleId: idField().optional() }).optional(),
  Resources: z.array(z.object({ Type: idField().min(1), Id: idField().min(1), Region: z.string().optional() })).min(1),
  Compliance: z.object({ Status: z.string().optional(), SecurityControlId: idField().optional() }).optional(),
  RecordState: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  Workflow: z.object({ Status: z.string().optional() }).optional(),
  Note: z.object({ UpdatedBy: z.string().optional() }).optional(),
});
type AsffFinding = z.infer<typeof AsffFindingSchema>;

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

const parseAsffFinding = recordParser(AsffFindingSchema);

export function normalizeAsff(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseAsffFinding(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const f = parsed.value;
  const controlId =
    f.Compliance?.SecurityControlId ?? f.ProductFields?.ControlId ?? f.ProductFields?.RuleId ?? f.GeneratorId;
  const product = productOf(f);
  const classification = classifyCheck({
    product: `${product} ${f.ProductArn}`.toLowerCase(),
    checkId: controlId,
    text: `${controlId} ${f.GeneratorId} ${f.Title} ${(f.Types ?? []).join(' ')}`,
    types: f.Types ?? [],
    resourceTypes: f.Resources.map((r) => r.Type),
  });
  if (!classification) return { kind: 'skipped', reason: 'not a non-human-identity finding' };
  if (f.RecordState === 'ARCHIVED') return { kind: 'skipped', reason: 'archived' };
  if (f.Compliance?.Status === 'PASSED') return { kind: 'skipped', reason: 'control passed' };
  const resource = f.Resources.find((r) => r.Type.startsWith('AwsIam')) ?? f.Resources[0]!;
  const observation = postureObservation(
    {
      classification,
      provider: 'aws',
      account: f.AwsAccountId,
      resource: resource.Id,
      title: f.Title,
      detector: controlId,
      severity: SEVERITY[f.Severity?.Label ?? ''] ?? 'medium',
      scanner: product,
      scannerId: f.Id,
      firstReportedAt: isoOrUndefined(f.FirstObservedAt ?? f.CreatedAt) ?? ctx.receivedAt,
      // closeloop's own write-back (its note) comes back in the next import: not the product's verdict.
      resolvedAtSource:
        (f.Workflow?.Status === 'RESOLVED' || f.Workflow?.Status === 'SUPPRESSED') &&
        f.Note?.UpdatedBy !== WRITEBACK_AUTHOR,
      aliasKey: `asff:${f.Id}`,
      ref: { system: 'securityhub', productArn: f.ProductArn, id: f.Id },
    },
    ctx,
  );
  return { kind: 'observation', observation };
}

const looksLikeFinding = (x: unknown) => typeof x === 'object' && x !== null && 'ProductArn' in x && 'GeneratorId' in x;
const isEvent = (x: unknown): x is { 'detail-type': string; detail?: { findings?: unknown } } =>
  typeof x === 'object' && x !== null && 'detail-type' in x && typeof x['detail-type'] === 'string' && 'detail' in x;

/** The list of a `{"Findings": [...]}` export (GetFindings) or `{"findings": [...]}`, in either case. */
function findingsList(doc: unknown): unknown[] | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const d = doc as { Findings?: unknown; findings?: unknown };
  const list = d.Findings ?? d.findings;
  return Array.isArray(list) ? list : undefined;
}

export const asffFormat: SourceFormat = {
  name: 'asff',
  label:
    'AWS Security Hub ASFF: a list, {"Findings": [...]} (either case), one finding, or the EventBridge "Security Hub Findings - Imported" event',
  shape: 'document',
  detect: (doc) => {
    if (isEvent(doc)) return doc['detail-type'].startsWith('Security Hub Findings');
    if (looksLikeFinding(doc)) return true;
    const list = Array.isArray(doc) ? doc : findingsList(doc);
    // An empty {"Findings": []} export is ASFF too (a clean result); a bare [] could be anything.
    return Array.isArray(list) && (list.length > 0 ? looksLikeFinding(list[0]) : !Array.isArray(doc));
  },
  records: (doc) => {
    if (isEvent(doc)) {
      const findings = doc.detail?.findings;
      if (!Array.isArray(findings)) throw new InputError('"detail.findings" must be an array');
      return findings;
    }
    if (Array.isArray(doc)) return doc;
    if (looksLikeFinding(doc)) return [doc];
    const list = findingsList(doc);
    if (!list)
      throw new InputError('expected a finding, a list of findings, {"Findings": [...]} or a Security Hub event');
    return list;
  },
  normalize: normalizeAsff,
};
