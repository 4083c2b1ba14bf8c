import { InputError } from '@core/shared/errors';
import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location } from '@core/finding/model';
import { recordParser } from './record-parser';
import { isoOrUndefined, leakObservation, leakTitle, normaliseRepository, repositoryAsset } from './common';
import { idField, pathField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

const CommitMetadataSchema = z.object({
  commit_id: idField().optional(),
  committer_timestamp: z.string().optional(),
  author_timestamp: z.string().optional(),
});

const ProvenanceSchema = z.object({
  kind: z.string(),
  path: pathField().optional(),
  repo_path: pathField().optional(),
  // 0.16: commit_provenance; 0.17 and later: first_commit.
  commit_provenance: z.object({ commit_metadata: CommitMetadataSchema, blob_path: pathField() }).nullish(),
  first_commit: z.object({ commit_metadata: CommitMetadataSchema, blob_path: pathField() }).nullish(),
  payload: z.record(z.string(), z.unknown()).nullish(),
});

const MatchSchema = z.object({
  provenance: z.array(ProvenanceSchema).min(1),
  location: z
    .object({ source_span: z.object({ start: z.object({ line: z.number().int().nonnegative() }) }).optional() })
    .optional(),
  status: z.string().nullish(),
});

/**
 * One finding of `noseyparker report --format jsonl` (or `--format json`, a list of the same):
 * one rule and one secret, with every match. 0.16 gives the secret as `match_content`; 0.17
 * and later as `groups`, the capture groups in base64.
 */
export const NoseyParkerFindingSchema = z
  .object({
    type: z.string().optional(),
    finding_id: idField().optional(),
    rule_name: idField().min(1),
    rule_text_id: idField().optional(),
    match_content: z.string().optional(),
    groups: z.array(z.string()).optional(),
    num_matches: z.number().int().optional(),
    statuses: z.array(z.string()).nullish(),
    matches: z.array(MatchSchema).min(1),
  })
  .refine((f) => f.match_content !== undefined || f.groups !== undefined, {
    message: 'is required (or "match_content")',
    path: ['groups'],
  });
type NoseyParkerFinding = z.infer<typeof NoseyParkerFindingSchema>;

/** The secret: 0.16's `match_content`, or the capture groups decoded (several joined by ":"). */
export function noseyParkerSecret(f: NoseyParkerFinding): string | undefined {
  if (f.match_content !== undefined) return f.match_content;
  const groups = (f.groups ?? []).map((g) => Buffer.from(g, 'base64').toString('utf8'));
  return groups.length > 0 ? groups.join(':') : undefined;
}

function locationOf(match: z.infer<typeof MatchSchema>, asset: ReturnType<typeof repositoryAsset>): Location {
  const git = match.provenance.find((p) => p.kind === 'git_repo');
  const file = match.provenance.find((p) => p.kind === 'file');
  const commit = git?.first_commit ?? git?.commit_provenance ?? undefined;
  const path =
    commit?.blob_path ?? file?.path ?? (typeof git?.payload?.path === 'string' ? git.payload.path : undefined);
  const location: Location = { kind: commit?.commit_metadata.commit_id ? 'commit' : 'file' };
  if (path) location.path = path.replace(/^\.\//, '');
  const line = match.location?.source_span?.start.line;
  if (line !== undefined) location.line = line;
  if (commit?.commit_metadata.commit_id) location.commit = commit.commit_metadata.commit_id;
  if (asset.type === 'repository') location.repository = asset.id;
  return location;
}

/** `1685495256 +0000` (git's raw date) as ISO-8601. */
function gitTimestamp(value: string | undefined): string | undefined {
  const m = value ? /^(\d+)(?: [+-]\d{4})?$/.exec(value) : null;
  return m ? new Date(Number(m[1]) * 1000).toISOString() : isoOrUndefined(value);
}

const parseNoseyParkerFinding = recordParser(NoseyParkerFindingSchema);

export function normalizeNoseyParker(record: unknown, ctx: ParseContext): Normalized {
  // An empty object is how some tools write "nothing found" in place of an empty file.
  if (typeof record === 'object' && record !== null && !Array.isArray(record) && Object.keys(record).length === 0)
    return { kind: 'skipped', reason: 'an empty object (nothing found)' };
  const parsed = parseNoseyParkerFinding(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const f = parsed.value;
  if (f.type !== undefined && f.type !== 'finding') return { kind: 'skipped', reason: `not a finding (${f.type})` };
  const statuses = f.statuses ?? f.matches.map((m) => m.status).filter((s): s is string => !!s);
  if (statuses.length > 0 && statuses.every((s) => s === 'reject'))
    return { kind: 'skipped', reason: 'rejected in Nosey Parker review (status reject)' };
  const repoPath = f.matches.flatMap((m) => m.provenance).find((p) => p.kind === 'git_repo')?.repo_path;
  // A repo_path is a local clone (`./.git`, `/src/app`), only a URL names a repository.
  const asset = repositoryAsset(repoPath && /:\/\/|@/.test(repoPath) ? normaliseRepository(repoPath) : undefined, ctx);
  const locations = f.matches.map((m) => locationOf(m, asset));
  const first = f.matches[0]!;
  const commitMeta = (
    first.provenance.find((p) => p.kind === 'git_repo')?.first_commit ??
    first.provenance.find((p) => p.kind === 'git_repo')?.commit_provenance
  )?.commit_metadata;
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'noseyparker',
        scannerId: f.finding_id ?? [f.rule_name, locations[0]?.path ?? '', locations[0]?.line ?? ''].join(':'),
        // The rule's name, not its text id: 0.16 has no text id, and names are stable across versions.
        ruleId: f.rule_name,
        title: leakTitle(f.rule_name, locations[0]?.path),
        detector: f.rule_name,
        nhiType: nhiTypeFromDetector(f.rule_name),
        secret: noseyParkerSecret(f),
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations,
        reportedAt: gitTimestamp(commitMeta?.author_timestamp ?? commitMeta?.committer_timestamp) ?? ctx.receivedAt,
      },
      ctx,
    ),
  };
}

const looksLikeFinding = (x: unknown): boolean =>
  typeof x === 'object' && x !== null && 'rule_name' in x && 'matches' in x;

export const noseyParkerFormat: SourceFormat = {
  name: 'noseyparker',
  label: 'Nosey Parker JSON lines or JSON (`report --format jsonl|json`, 0.16 to 0.24)',
  shape: 'lines',
  detect: (doc) => (Array.isArray(doc) ? doc.length > 0 && looksLikeFinding(doc[0]) : looksLikeFinding(doc)),
  // `--format json` is a list of the same findings; a single object is one finding, an empty one none.
  records: (doc) => {
    if (Array.isArray(doc)) return doc;
    if (typeof doc === 'object' && doc !== null && Object.keys(doc).length === 0) return [];
    if (looksLikeFinding(doc)) return [doc];
    throw new InputError('expected a Nosey Parker finding or a list of them');
  },
  normalize: normalizeNoseyParker,
  scanner: () => 'noseyparker',
};
