import { InputError } from '@core/shared/errors';
import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location, Severity, Validity } from '@core/finding/model';
import { isoOrUndefined, leakObservation, leakTitle } from './common';
import { recordParser } from './record-parser';
import { idField, pathField, textField, urlField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

/** A secret incident from the GitGuardian API (`GET /v1/incidents/secrets`). */
export const GitguardianIncidentSchema = z.object({
  id: z.number().int().positive(),
  detector: z.object({
    name: idField().min(1),
    display_name: textField().optional(),
    category: z.string().optional(),
  }),
  date: z.string().optional(),
  secret_hash: idField().min(1),
  occurrences_count: z.number().int().optional(),
  status: z.enum(['TRIGGERED', 'ASSIGNED', 'RESOLVED', 'IGNORED']),
  secret_revoked: z.boolean().nullish(),
  validity: z.enum(['valid', 'invalid', 'failed_to_check', 'no_checker', 'unknown', 'not_checked']).nullish(),
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info', 'unknown']).nullish(),
  gitguardian_url: urlField().optional(),
  tags: z.array(z.string()).nullish(),
  incident_name: z.string().nullish(),
  public_exposure: z
    .object({ source_publicly_visible: z.boolean().optional(), leaked_outside_perimeter: z.boolean().optional() })
    .nullish(),
  occurrences: z
    .array(
      z.object({
        filepath: pathField().optional(),
        sha: idField().optional(),
        url: urlField().optional(),
        source: z.object({ url: urlField().optional(), full_name: idField().optional() }).optional(),
      }),
    )
    .nullish(),
});

const VALIDITY: Record<string, Validity> = { valid: 'active', invalid: 'inactive' };

/** `gitguardian/workspace/8` from the incident's dashboard URL: the workspace is the asset. */
export function gitguardianWorkspace(url: string | undefined): string {
  const m = url ? /\/workspace\/(\d+)\//.exec(url) : null;
  return m ? `gitguardian/workspace/${m[1]}` : 'gitguardian';
}

export const gitguardianAliasKey = (incidentId: number) => `gitguardian:incident/${incidentId}`;

const parseGitguardianIncident = recordParser(GitguardianIncidentSchema);

export function normalizeGitguardian(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseGitguardianIncident(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const i = parsed.value;
  const name = i.detector.display_name ?? i.detector.name;
  const workspace = gitguardianWorkspace(i.gitguardian_url);
  const locations: Location[] = (i.occurrences ?? []).map((o) => ({
    kind: o.sha ? 'commit' : 'file',
    ...(o.source?.full_name ? { repository: o.source.full_name.toLowerCase() } : {}),
    ...(o.filepath ? { path: o.filepath } : {}),
    ...(o.sha ? { commit: o.sha } : {}),
    ...(o.url ? { url: o.url } : {}),
  }));
  if (locations.length === 0) locations.push({ kind: 'url', ...(i.gitguardian_url ? { url: i.gitguardian_url } : {}) });
  const validity: Validity = i.secret_revoked ? 'inactive' : (VALIDITY[i.validity ?? ''] ?? 'unknown');
  const ggSeverity = i.severity && i.severity !== 'unknown' ? (i.severity as Severity) : undefined;
  const tags = i.tags ?? [];
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'gitguardian',
        scannerId: `incident/${i.id}`,
        ruleId: i.detector.name,
        title: leakTitle(name, ctx.asset ?? workspace),
        detector: i.detector.name,
        nhiType:
          i.detector.category === 'cloud_provider' ? 'cloud_access_key' : nhiTypeFromDetector(i.detector.name, name),
        validity,
        publiclyExposed:
          tags.includes('PUBLICLY_LEAKED') ||
          i.public_exposure?.source_publicly_visible === true ||
          i.public_exposure?.leaked_outside_perimeter === true,
        asset: ctx.asset ? { type: 'repository', id: ctx.asset } : { type: 'workspace', id: workspace },
        locations,
        reportedAt: isoOrUndefined(i.date) ?? ctx.receivedAt,
        ...(i.gitguardian_url ? { url: i.gitguardian_url } : {}),
        sourceState: i.status === 'RESOLVED' || i.status === 'IGNORED' ? 'resolved' : 'open',
        aliasKey: gitguardianAliasKey(i.id),
        ref: { system: 'gitguardian', incident: i.id },
        // GitGuardian never returns the secret, but its secret_hash is stable for one secret
        // in one workspace: two incidents of the same secret become one finding.
        fallbackIdentity: ['gitguardian', workspace, i.secret_hash],
        ...(ggSeverity ? { scannerSeverity: ggSeverity } : {}),
      },
      ctx,
    ),
  };
}

const looksLikeIncident = (x: unknown) => typeof x === 'object' && x !== null && 'secret_hash' in x && 'detector' in x;

export const gitguardianFormat: SourceFormat = {
  name: 'gitguardian',
  label: 'GitGuardian secret incidents (API response: a list, `{results: [...]}` or one incident)',
  shape: 'document',
  detect: (doc) => {
    if (looksLikeIncident(doc)) return true;
    const list = Array.isArray(doc) ? doc : (doc as { results?: unknown })?.results;
    return Array.isArray(list) && list.length > 0 && looksLikeIncident(list[0]);
  },
  records: (doc) => {
    if (Array.isArray(doc)) return doc;
    if (looksLikeIncident(doc)) return [doc];
    const results = (doc as { results?: unknown } | null)?.results;
    if (!Array.isArray(results))
      throw new InputError('expected a list of incidents, {"results": [...]} or one incident');
    return results;
  },
  normalize: normalizeGitguardian,
};
