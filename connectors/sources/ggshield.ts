import { InputError } from '@core/shared/errors';
import { hash } from 'node:crypto';
import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location, Validity } from '@core/finding/model';
import { recordParser } from './record-parser';
import { isoOrUndefined, leakObservation, leakTitle, repositoryAsset } from './common';
import { gitguardianAliasKey, gitguardianWorkspace } from './gitguardian';
import { idField, pathField, urlField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

const MatchSchema = z.object({
  match: z.string(),
  type: idField().optional(),
  match_type: z.string().optional(),
  line_start: z.number().int().nullish(),
  line_end: z.number().int().nullish(),
  index_start: z.number().int().nullish(),
  index_end: z.number().int().nullish(),
});

/**
 * One incident of ggshield's JSON output (`ggshield secret scan … --json`): one secret in one
 * file, with its matches. ggshield masks the matches unless run with `--show-secrets`.
 * `ignore_sha` is ggshield's own SHA-256 over the matches and their types, not GitGuardian's
 * incident `secret_hash`; `incident_details` (with `--with-incident-details`) carries that.
 */
export const GgshieldIncidentSchema = z.object({
  policy: z.string().optional(),
  occurrences: z.array(MatchSchema).min(1),
  type: idField().min(1),
  detector_documentation: z.string().nullish(),
  validity: z.string().nullish(),
  ignore_sha: idField().min(1),
  total_occurrences: z.number().int().optional(),
  incident_url: urlField().nullish(),
  known_secret: z.boolean().optional(),
  ignore_reason: z.object({ kind: z.string() }).nullish(),
  incident_details: z
    .object({
      id: z.number().int().optional(),
      secret_hash: idField().optional(),
      gitguardian_url: urlField().optional(),
    })
    .nullish(),
});
type GgshieldIncident = z.infer<typeof GgshieldIncidentSchema>;

/** An incident with the file and commit it was found in. */
interface GgshieldRecord {
  __scan: { filename: string; commit?: string; date?: string };
  result: unknown;
}

const VALIDITY: Record<string, Validity> = { valid: 'active', invalid: 'inactive' };

const matchType = (m: z.infer<typeof MatchSchema>) => m.match_type ?? m.type ?? '';

/**
 * The secret when ggshield printed it (`--show-secrets`): demonstrably so when the matches
 * hash to `ignore_sha` as ggshield computes it (SHA-256 of "match,type" for each match,
 * sorted by type). Masked matches never do.
 */
export function ggshieldSecret(incident: GgshieldIncident): string | undefined {
  // ggshield's mask is a run of "*": nothing to prove, and no hash to spend on it.
  if (incident.occurrences.some((m) => m.match.includes('***'))) return undefined;
  const sorted = [...incident.occurrences].sort((a, b) =>
    matchType(a) < matchType(b) ? -1 : matchType(a) > matchType(b) ? 1 : 0,
  );
  const digest = hash('sha256', sorted.map((m) => `${m.match},${matchType(m)}`).join(''), 'hex');
  if (digest !== incident.ignore_sha.toLowerCase()) return undefined;
  if (sorted.length === 1) return sorted[0]!.match;
  // Several matches (host, username, password…): the credential part, else all of them.
  const credential = sorted.find((m) => /password|secret|key|token|apikey|credential/i.test(matchType(m)));
  return credential?.match ?? sorted.map((m) => m.match).join(':');
}

const parseGgshieldIncident = recordParser(GgshieldIncidentSchema);

export function normalizeGgshield(record: unknown, ctx: ParseContext): Normalized {
  const { __scan: scan, result } = record as GgshieldRecord;
  const parsed = parseGgshieldIncident(result);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const i = parsed.value;
  if (i.policy && i.policy.toLowerCase() !== 'secrets detection')
    return { kind: 'skipped', reason: `not a secret (${i.policy})` };
  if (i.ignore_reason) return { kind: 'skipped', reason: `ignored in ggshield (${i.ignore_reason.kind})` };
  const asset = repositoryAsset(undefined, ctx);
  const line = i.occurrences.find((m) => typeof m.line_start === 'number' && m.line_start > 0)?.line_start;
  const location: Location = { kind: scan.commit ? 'commit' : 'file', path: scan.filename };
  if (line !== undefined && line !== null) location.line = line;
  if (asset.type === 'repository') location.repository = asset.id;
  if (scan.commit) location.commit = scan.commit;
  const details = i.incident_details;
  const incidentId = details?.id ?? incidentIdFromUrl(i.incident_url ?? details?.gitguardian_url);
  const secret = ggshieldSecret(i);
  // Without the secret: GitGuardian's own secret hash when the incident details carry it
  // (the GitGuardian connector's identity, so both are one finding), else the location; a
  // line ggshield does not know is stood in for by its ignore_sha. That is an unkeyed hash of the
  // secret: only its HMAC may be kept, even inside another hash.
  const where =
    location.line !== undefined ? String(location.line) : `ignore:${ctx.hasher.hash(i.ignore_sha).slice(0, 32)}`;
  const fallbackIdentity = details?.secret_hash
    ? ['gitguardian', gitguardianWorkspace(details.gitguardian_url ?? i.incident_url ?? undefined), details.secret_hash]
    : location.line === undefined
      ? [asset.id, scan.filename, where, i.type]
      : undefined;
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'ggshield',
        scannerId: [scan.commit ?? '', scan.filename, i.type, where].join(':'),
        ruleId: i.type,
        title: leakTitle(i.type, scan.filename),
        detector: i.type,
        nhiType: nhiTypeFromDetector(i.type),
        secret,
        validity: VALIDITY[i.validity ?? ''] ?? 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(scan.date) ?? ctx.receivedAt,
        // Passed as they are (undefined when absent): conditional spreads cost, once per incident.
        url: i.incident_url || undefined,
        aliasKey: incidentId !== undefined ? gitguardianAliasKey(incidentId) : undefined,
        // The GitGuardian incident ggshield linked: the hub can resolve it there too.
        ref: incidentId !== undefined ? { system: 'gitguardian', incident: incidentId } : undefined,
        fallbackIdentity,
      },
      ctx,
    ),
  };
}

/** `21460` from `https://dashboard.gitguardian.com/workspace/8/incidents/21460`. */
function incidentIdFromUrl(url: string | null | undefined): number | undefined {
  const m = url ? /\/incidents\/(\d+)(?:[/?#]|$)/.exec(url) : null;
  return m ? Number(m[1]) : undefined;
}

/** One file of a ggshield scan, with its incidents. */
export const GgshieldFileSchema = z.object({ filename: pathField().min(1), incidents: z.array(z.unknown()).nullish() });
/** The files of one scan; built and compiled once, not per scan of a commit range. */
const compiledFiles = z.compile(z.array(GgshieldFileSchema));

interface ScanNode {
  id?: unknown;
  type?: unknown;
  entities_with_incidents?: unknown;
  scans?: unknown;
  extra_info?: { date?: unknown };
}

/** Every incident of a scan collection, nested scans (commit ranges) included. */
function collect(node: ScanNode, out: GgshieldRecord[], depth: number): void {
  if (depth > 8) throw new InputError('scans are nested more than 8 deep');
  const commit = node.type === 'commit' && typeof node.id === 'string' ? node.id : undefined;
  const date = typeof node.extra_info?.date === 'string' ? node.extra_info.date : undefined;
  for (const entity of compiledFiles.parse(node.entities_with_incidents ?? [])) {
    // Built by assignment rather than conditional spreads: this runs once per file.
    const context: GgshieldRecord['__scan'] = { filename: entity.filename };
    if (commit) context.commit = commit;
    if (date) context.date = date;
    for (const result of entity.incidents ?? []) out.push({ __scan: context, result });
  }
  if (node.scans !== undefined) {
    if (!Array.isArray(node.scans)) throw new InputError('"scans" must be an array');
    for (const inner of node.scans) collect(inner as ScanNode, out, depth + 1);
  }
}

const isOutput = (x: unknown): boolean =>
  typeof x === 'object' &&
  x !== null &&
  !Array.isArray(x) &&
  'total_incidents' in x &&
  ('entities_with_incidents' in x || 'scans' in x || 'type' in x);

export const ggshieldFormat: SourceFormat = {
  name: 'ggshield',
  label: 'ggshield JSON output (secret scan path, commit range, pre-commit, docker)',
  shape: 'document',
  detect: isOutput,
  records: (doc) => {
    if (!isOutput(doc))
      throw new InputError(
        'expected ggshield JSON output ({"total_incidents": …, "scans" or "entities_with_incidents"})',
      );
    const out: GgshieldRecord[] = [];
    collect(doc as ScanNode, out, 0);
    return out;
  },
  normalize: normalizeGgshield,
  scanner: () => 'ggshield',
};
