import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location, Validity } from '@core/finding/model';
import { isoOrUndefined, leakObservation, leakTitle, repositoryAsset } from './common';
import { recordParser } from './record-parser';
import { idField, pathField, textField, urlField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

const RepositorySchema = z.object({
  full_name: idField().min(1),
  private: z.boolean().optional(),
  html_url: urlField().optional(),
});

const FirstLocationSchema = z
  .object({
    path: pathField().optional(),
    start_line: z.number().int().optional(),
    commit_sha: idField().optional(),
  })
  .nullish();

/** A secret scanning alert from the REST API (repository or organisation list). */
export const GithubAlertSchema = z.object({
  number: z.number().int().positive(),
  created_at: z.string().optional(),
  updated_at: z.string().nullish(),
  url: urlField().optional(),
  html_url: urlField().optional(),
  state: z.enum(['open', 'resolved']),
  resolution: z.string().nullish(),
  secret_type: idField().min(1),
  secret_type_display_name: textField().nullish(),
  secret: z.string().nullish(),
  validity: z.enum(['active', 'inactive', 'unknown']).nullish(),
  publicly_leaked: z.boolean().nullish(),
  multi_repo: z.boolean().nullish(),
  repository: RepositorySchema.optional(),
  first_location_detected: FirstLocationSchema,
});

/** The `secret_scanning_alert` webhook payload: a minimal alert plus its repository. */
export const GithubWebhookSchema = z.object({
  action: z.enum([
    'created',
    'reopened',
    'resolved',
    'revoked',
    'validated',
    'publicly_leaked',
    'assigned',
    'unassigned',
  ]),
  alert: z.object({
    number: z.number().int().positive(),
    secret_type: idField().min(1),
    secret_type_display_name: textField().nullish(),
    resolution: z.string().nullish(),
    resolution_comment: z.string().nullish(),
    resolved_by: z.object({ login: idField() }).nullish(),
    created_at: z.string().optional(),
    html_url: urlField().optional(),
    validity: z.enum(['active', 'inactive', 'unknown']).nullish(),
    publicly_leaked: z.boolean().nullish(),
  }),
  repository: RepositorySchema,
  /** Who caused the event. */
  sender: z.object({ login: idField() }).optional(),
});
export type GithubWebhook = z.infer<typeof GithubWebhookSchema>;

/** `owner/repo` from `https://api.github.com/repos/owner/repo/secret-scanning/alerts/2`. */
function repoFromApiUrl(url: string | undefined): string | undefined {
  const m = url ? /\/repos\/([^/]+)\/([^/]+)\//.exec(url) : null;
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** The alias under which any later report of this alert finds its finding. */
export const githubAliasKey = (repoFullName: string, alertNumber: number) =>
  `github:${repoFullName.toLowerCase()}#${alertNumber}`;

const parseGithubAlert = recordParser(GithubAlertSchema);

export function normalizeGithubAlert(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseGithubAlert(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const a = parsed.value;
  const fullName =
    a.repository?.full_name ??
    repoFromApiUrl(a.url) ??
    repoFromApiUrl(a.html_url?.replace('github.com/', 'api.github.com/repos/'));
  if (!fullName)
    return {
      kind: 'rejected',
      problems: ['"repository.full_name" is required when "url" does not name the repository'],
    };
  const repository = `github.com/${fullName.toLowerCase()}`;
  const asset = repositoryAsset(repository, ctx);
  const first = a.first_location_detected;
  const location: Location = first?.path
    ? {
        kind: first.commit_sha ? 'commit' : 'file',
        repository,
        path: first.path.replace(/^\//, ''),
        ...(first.start_line ? { line: first.start_line } : {}),
        ...(first.commit_sha ? { commit: first.commit_sha } : {}),
      }
    : { kind: 'url', repository, ...(a.html_url ? { url: a.html_url } : {}) };
  const name = a.secret_type_display_name ?? a.secret_type;
  const validity: Validity = a.validity ?? 'unknown';
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'github-secret-scanning',
        scannerId: `${fullName.toLowerCase()}#${a.number}`,
        ruleId: a.secret_type,
        title: leakTitle(name, fullName),
        detector: a.secret_type,
        nhiType: nhiTypeFromDetector(a.secret_type, name),
        secret: a.secret ?? undefined,
        validity,
        publiclyExposed: a.publicly_leaked === true || a.repository?.private === false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(a.created_at) ?? ctx.receivedAt,
        ...(a.html_url ? { url: a.html_url } : {}),
        sourceState: a.state,
        aliasKey: githubAliasKey(fullName, a.number),
        ref: { system: 'github', repository: fullName, alert: a.number },
        fallbackIdentity: ['github', fullName.toLowerCase(), String(a.number)],
      },
      ctx,
    ),
  };
}

const parseGithubWebhook = recordParser(GithubWebhookSchema);

export function normalizeGithubWebhook(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseGithubWebhook(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const { action, alert, repository } = parsed.value;
  if (action === 'assigned' || action === 'unassigned')
    return { kind: 'skipped', reason: `webhook action ${action} carries no exposure change` };
  const fullName = repository.full_name;
  const repo = `github.com/${fullName.toLowerCase()}`;
  const name = alert.secret_type_display_name ?? alert.secret_type;
  const resolved = action === 'resolved' || action === 'revoked';
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'github-secret-scanning',
        scannerId: `${fullName.toLowerCase()}#${alert.number}`,
        ruleId: alert.secret_type,
        title: leakTitle(name, fullName),
        detector: alert.secret_type,
        nhiType: nhiTypeFromDetector(alert.secret_type, name),
        validity: action === 'revoked' ? 'inactive' : (alert.validity ?? 'unknown'),
        publiclyExposed: action === 'publicly_leaked' || alert.publicly_leaked === true || repository.private === false,
        asset: repositoryAsset(repo, ctx),
        locations: [{ kind: 'url', repository: repo, ...(alert.html_url ? { url: alert.html_url } : {}) }],
        reportedAt: isoOrUndefined(alert.created_at) ?? ctx.receivedAt,
        sourceState: resolved ? 'resolved' : 'open',
        aliasKey: githubAliasKey(fullName, alert.number),
        ref: { system: 'github', repository: fullName, alert: alert.number },
        fallbackIdentity: ['github', fullName.toLowerCase(), String(alert.number)],
      },
      ctx,
    ),
  };
}

const isWebhook = (x: unknown) => typeof x === 'object' && x !== null && 'alert' in x && 'action' in x;

export const githubFormat: SourceFormat = {
  name: 'github',
  label: 'GitHub secret scanning alerts (REST list, repository or organisation) and the secret_scanning_alert webhook',
  shape: 'document',
  detect: (doc) => {
    if (isWebhook(doc)) return true;
    const first = Array.isArray(doc) ? doc[0] : undefined;
    return typeof first === 'object' && first !== null && 'secret_type' in first && 'number' in first;
  },
  records: (doc) => (Array.isArray(doc) ? doc : [doc]),
  normalize: (record, ctx) =>
    isWebhook(record) ? normalizeGithubWebhook(record, ctx) : normalizeGithubAlert(record, ctx),
};
