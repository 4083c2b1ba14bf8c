import { previewSecret, sha256Of } from '@core/finding/identity';
import type { Asset, Location, NhiType, Observation, Severity, Source, SourceRef, Validity } from '@core/finding/model';
import { NIST_CSF_BY_KIND, OWASP_NHI_BY_KIND, leakSeverity, type ExposureKind } from '@core/finding/standards';
import { truncate } from '@core/shared/text';
import { knownSecret } from './secret-value';
import type { ParseContext } from './types';

/** `github.com/owner/repo` from a clone URL, a web URL or `owner/repo`; lower-cased host and path. */
export function normaliseRepository(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let v = value.trim();
  const m = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)[/:](.+)$/i.exec(v);
  if (m && m[1]!.includes('.')) v = `${m[1]}/${m[2]}`;
  v = v.replace(/\.git$/i, '').replace(/\/+$/, '');
  return v.toLowerCase();
}

/**
 * An image reference without tag or digest, with Docker Hub's defaults spelled out, so
 * `nginx:1.25`, `docker.io/library/nginx@sha256:…` and the Operator's `index.docker.io` +
 * `library/nginx` are one asset across scans.
 */
export function normaliseImage(reference: string): string {
  let ref = reference.trim().replace(/@sha256:[0-9a-f]+$/i, '');
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  const hasRegistry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!);
  if (!hasRegistry) parts.unshift('index.docker.io');
  if (parts[0] === 'docker.io' || parts[0] === 'registry-1.docker.io') parts[0] = 'index.docker.io';
  if (parts[0] === 'index.docker.io' && parts.length === 2) parts.splice(1, 0, 'library');
  return parts.join('/').toLowerCase();
}

/** `github.com/owner/repo` from a link such as `https://github.com/owner/repo/blob/<sha>/file#L3`. */
export function repositoryFromLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  return plainLinkRepository(link) ?? repositoryFromLinkPrefix(link);
}

const LINK_KINDS = ['blob', 'tree', 'commit', 'security', 'wiki'];

/**
 * The repository of a link spelled as scanners write them (`http://` or `https://`, four
 * non-empty segments, the kind in lower case), read off by position: no lookup, no regex. Null
 * when the link is spelled otherwise, for repositoryFromLinkPrefix to decide; where it answers,
 * it answers as that would.
 */
function plainLinkRepository(link: string): string | null {
  const start = link.indexOf('://');
  if (start === 5 ? !link.startsWith('https') : start !== 4 || !link.startsWith('http')) return null;
  const host = link.indexOf('/', start + 3);
  if (host <= start + 3) return null;
  const owner = link.indexOf('/', host + 1);
  if (owner <= host + 1) return null;
  const repo = link.indexOf('/', owner + 1);
  if (repo <= owner + 1) return null;
  const kind = link.indexOf('/', repo + 1);
  if (kind < 0) return null;
  for (const k of LINK_KINDS)
    if (k.length === kind - repo - 1 && link.startsWith(k, repo + 1)) return link.slice(start + 3, repo).toLowerCase();
  return null;
}

function repositoryFromLinkPrefix(link: string): string | undefined {
  // host/owner/repo/kind: cut by indexOf (links repeat a handful of prefixes; regex per record is slow).
  const start = link.indexOf('://');
  if (start < 0) return undefined;
  let end = start + 3;
  for (let segment = 0; segment < 4; segment++) {
    end = link.indexOf('/', end + 1);
    if (end < 0) return undefined;
  }
  const prefix = link.slice(0, end);
  let repository = linkPrefixes.get(prefix);
  if (repository === undefined) {
    const m = /^https?:\/\/([^/]+)\/([^/]+)\/([^/]+)\/(?:blob|tree|commit|security|wiki)$/i.exec(prefix);
    repository = m ? `${m[1]}/${m[2]}/${m[3]}`.toLowerCase() : '';
    if (linkPrefixes.size > 10_000) linkPrefixes.clear();
    linkPrefixes.set(prefix, repository);
  }
  return repository || undefined;
}

const linkPrefixes = new Map<string, string>();

/** The repository asset, honouring an `--asset` override. */
export function repositoryAsset(repository: string | undefined, ctx: ParseContext): Asset {
  const id = ctx.asset ?? repository;
  return id ? { type: 'repository', id } : { type: 'unspecified', id: 'unspecified' };
}

export interface LeakInput {
  scanner: string;
  scannerId: string;
  ruleId: string;
  title: string;
  detector: string;
  nhiType: NhiType;
  /**
   * The raw secret; reduced to HMAC and preview here and dropped. A redacted, masked,
   * armour-only or too-short value is not a secret: the observation gets a location identity.
   */
  secret?: string;
  validity: Validity;
  publiclyExposed: boolean;
  asset: Asset;
  locations: Location[];
  reportedAt: string;
  url?: string;
  sourceState?: Source['state'];
  aliasKey?: string;
  /** The scanner's record, when closeloop can write outcomes back to it. */
  ref?: SourceRef;
  /**
   * Identity when there is no usable secret, for formats with a durable id of their own (an
   * alert number, GitGuardian's secret hash). Default: the location identity.
   */
  fallbackIdentity?: string[];
  /** The scanner's own severity, when it gives one; the higher of it and ours wins. */
  scannerSeverity?: Severity;
}

/**
 * Builds the observation of a leaked secret. This is the parser boundary: the secret goes in,
 * only its HMAC and a preview come out.
 */
export function leakObservation(input: LeakInput, ctx: ParseContext): Observation {
  const secret = knownSecret(input.secret);
  const secretHash = secret ? ctx.hasher.hash(secret) : undefined;
  // A location identity is public facts (asset, file, line, rule): kept as text, as the finding id
  // already hashes the fingerprint. A format's own identity may hold a hash of the secret: hashed.
  const fingerprint = secretHash
    ? `secret:${secretHash}`
    : input.fallbackIdentity
      ? `loc:${sha256Of(...input.fallbackIdentity)}`
      : `at:${joinParts(locationIdentity(input.asset, input.locations[0], input.ruleId))}`;
  const kind: ExposureKind = 'leaked_secret';
  let severity = leakSeverity({
    nhiType: input.nhiType,
    validity: input.validity,
    publiclyExposed: input.publiclyExposed,
  });
  if (input.scannerSeverity && RANK[input.scannerSeverity] < RANK[severity]) severity = input.scannerSeverity;
  // Built by assignment rather than conditional spreads: this runs once per record.
  const source: Source = {
    scanner: input.scanner,
    scannerId: input.scannerId,
    ruleId: input.ruleId,
    firstReportedAt: input.reportedAt,
    state: input.sourceState ?? 'open',
  };
  if (input.url) source.url = input.url;
  if (input.ref) source.ref = input.ref;
  const observation: Observation = {
    fingerprint,
    title: input.title,
    nhiType: input.nhiType,
    detector: input.detector,
    severity,
    validity: input.validity,
    publiclyExposed: input.publiclyExposed,
    asset: input.asset,
    locations: input.locations,
    source,
    owaspNhi: OWASP_NHI_BY_KIND[kind],
    nistCsf: NIST_CSF_BY_KIND[kind],
  };
  if (secretHash) {
    observation.secretHash = secretHash;
    observation.secretPreview = previewSecret(secret!);
  }
  if (input.aliasKey) observation.aliasKey = input.aliasKey;
  return observation;
}

/**
 * What names an exposure whose secret is not known: asset + file + line + rule. Not the commit,
 * so the same line seen in several commits (or in a later scan) is one exposure.
 */
export function locationIdentity(asset: Asset, location: Location | undefined, ruleId: string): string[] {
  return [asset.id, location?.path ?? location?.url ?? location?.resource ?? '', String(location?.line ?? ''), ruleId];
}

/** Parts joined unambiguously: `<length>:<part>|` each. */
function joinParts(parts: string[]): string {
  let out = '';
  for (const part of parts) out += `${part.length}:${part}|`;
  return out;
}

const RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** A title that never contains the secret: what was found and where. */
export function leakTitle(what: string, where: string | undefined): string {
  const title = where ? `${what} leaked in ${where}` : `${what} leaked`;
  return truncate(title, 300);
}

const isoDates = new Map<string, string | undefined>();

/** ISO-8601 if the value parses as a date, else undefined (memoised: records repeat commit dates). */
export function isoOrUndefined(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  if (isoDates.has(value)) return isoDates.get(value);
  const t = Date.parse(value);
  // Go's zero time (0001-01-01) and other pre-epoch stamps mean "no date".
  const iso = Number.isNaN(t) || t < 0 ? undefined : new Date(t).toISOString();
  if (isoDates.size > 10_000) isoDates.clear();
  isoDates.set(value, iso);
  return iso;
}
