import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Asset, Location } from '@core/finding/model';
import {
  isoOrUndefined,
  leakObservation,
  leakTitle,
  normaliseImage,
  normaliseRepository,
  repositoryAsset,
  repositoryFromLink,
} from './common';
import { recordParser } from './record-parser';
import { idField, pathField, urlField } from './fields';
import type { Normalized, ParseContext, SourceFormat } from './types';

/** The fields closeloop reads from any source's metadata (git hosts, filesystem, Docker, S3, …). */
const SourceDataSchema = z.object({
  commit: idField().optional(),
  file: pathField().optional(),
  filename: pathField().optional(),
  email: z.string().optional(),
  repository: urlField().optional(),
  project: idField().optional(),
  timestamp: z.string().optional(),
  line: z.number().int().nonnegative().optional(),
  link: urlField().optional(),
  visibility: z.union([z.number(), z.string()]).optional(),
  image: idField().optional(),
  bucket: idField().optional(),
  container: idField().optional(),
});

/**
 * One line of `trufflehog … --json` (v3). Since September 2022 `Raw` and `RawV2` are plain
 * text (`pkg/output/json.go`: `Raw: string(r.Raw)`); only the first v3 releases wrote them as
 * Go's base64 of a []byte.
 */
export const TrufflehogResultSchema = z.object({
  SourceMetadata: z.object({ Data: z.record(z.string(), SourceDataSchema.nullish()) }),
  SourceID: z.number().optional(),
  SourceType: z.number().optional(),
  SourceName: z.string().optional(),
  DetectorType: z.number().optional(),
  DetectorName: idField().min(1),
  DetectorDescription: z.string().optional(),
  DecoderName: z.string().optional(),
  Verified: z.boolean(),
  VerificationError: z.string().optional(),
  VerificationFromCache: z.boolean().optional(),
  Raw: z.string().optional(),
  RawV2: z.string().optional(),
  Redacted: z.string().optional(),
  // Only the key closeloop reads: a record schema would walk every key of every line.
  ExtraData: z.object({ account: z.unknown().optional() }).nullish(),
});
type TrufflehogResult = z.infer<typeof TrufflehogResultSchema>;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MASK = /\*{3,}/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The value Go's encoding/json wrote as base64, when it demonstrably is base64: canonical
 * base64 that decodes to printable UTF-8 consistent with `Redacted`. Otherwise undefined.
 * An AWS key id, a 40-character AWS secret key or a 40-hex token is valid base64 too, but
 * decodes to bytes that are not text.
 */
export function decodeLegacyBase64(value: string, redacted: string | undefined): string | undefined {
  if (value.length % 4 !== 0 || !BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    // Not UTF-8: the value was plain text that happens to look like base64.
    return undefined;
  }
  if (!isPrintable(text)) return undefined;
  if (redacted && !consistentWithRedacted(text, redacted)) return undefined;
  return text;
}

/** No control characters but tab and line breaks: text, not binary that decoded by chance. */
function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0xfffd) return false;
  }
  return true;
}

/** True when every unmasked piece of `redacted` appears in `value`, in order (`https://*****:*****@host`). */
function consistentWithRedacted(value: string, redacted: string): boolean {
  let from = 0;
  for (const piece of redacted.split(MASK)) {
    if (piece === '') continue;
    const at = value.indexOf(piece, from);
    if (at < 0) return false;
    from = at + piece.length;
  }
  return true;
}

/**
 * The secret of a result. `Raw` is what other scanners report (an AWS key id, not id + secret
 * as `RawV2` holds), so it is used first. Base64 is decoded only for the 2022 layout (no
 * `DecoderName`, no `RawV2`), and only when the value demonstrably is base64.
 */
export function trufflehogSecret(r: TrufflehogResult): string | undefined {
  const raw = r.Raw || undefined;
  const legacyLayout = r.DecoderName === undefined && r.RawV2 === undefined;
  if (raw && legacyLayout && !(r.Redacted && consistentWithRedacted(raw, r.Redacted)))
    return decodeLegacyBase64(raw, r.Redacted) ?? raw;
  return raw ?? (r.RawV2 || undefined);
}

/** Where a result was found and what the scan was about, from whichever source produced it. */
function sourceContext(r: TrufflehogResult, ctx: ParseContext) {
  const [sourceName, data] = Object.entries(r.SourceMetadata.Data).find(([, v]) => v) ?? ['', undefined];
  const d = data ?? {};
  const repository =
    normaliseRepository(d.repository ?? d.project) ?? (d.link ? repositoryFromLink(d.link) : undefined) ?? undefined;
  const path = d.file ?? d.filename;
  let asset: Asset;
  if (ctx.asset) asset = { type: 'repository', id: ctx.asset };
  else if (repository) asset = { type: 'repository', id: repository };
  else if (d.image) asset = { type: 'container_image', id: normaliseImage(d.image) };
  else if (d.bucket && sourceName === 'S3') asset = { type: 'aws_resource', id: `arn:aws:s3:::${d.bucket}` };
  else if (d.bucket) asset = { type: 'cloud_resource', id: `gs://${d.bucket}` };
  else {
    const account = typeof r.ExtraData?.account === 'string' ? r.ExtraData.account : undefined;
    asset = account ? { type: 'aws_account', id: account } : { type: 'unspecified', id: 'unspecified' };
  }
  const location: Location = { kind: d.commit ? 'commit' : path ? 'file' : 'url', path: path ?? d.link };
  if (!location.path) delete location.path;
  if (asset.type === 'repository') location.repository = asset.id;
  if (d.line !== undefined) location.line = d.line;
  if (d.commit) location.commit = d.commit;
  if (d.link) location.url = d.link;
  // Go omits a zero enum: `visibility` 0 (public) is absent, so only a spelled-out "public" is trusted.
  const publiclyExposed = d.visibility === 'public' || d.visibility === 0;
  return { repository, path, location, asset, publiclyExposed, commit: d.commit, timestamp: d.timestamp };
}

/** One line of TruffleHog 2 (`trufflehog --json`, the Python tool): the strings found in one diff. */
export const Trufflehog2ResultSchema = z.object({
  branch: z.string().optional(),
  commit: idField().optional(),
  commitHash: idField().optional(),
  date: z.string().optional(),
  path: pathField().min(1),
  reason: idField().min(1),
  stringsFound: z.array(z.string()),
});

const parseTrufflehog2Result = recordParser(Trufflehog2ResultSchema);

function normalizeTrufflehog2(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseTrufflehog2Result(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const r = parsed.value;
  const asset = repositoryAsset(undefined, ctx);
  const location: Location = { kind: r.commitHash ? 'commit' : 'file', path: r.path };
  if (asset.type === 'repository') location.repository = asset.id;
  if (r.commitHash) location.commit = r.commitHash;
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'trufflehog',
        scannerId: [r.reason, r.commitHash ?? '', r.path].join(':'),
        ruleId: r.reason,
        title: leakTitle(r.reason, r.path),
        detector: r.reason,
        nhiType: nhiTypeFromDetector(r.reason),
        // One string is the secret; several (a high-entropy diff) name no single one: location identity.
        secret: r.stringsFound.length === 1 ? r.stringsFound[0] : undefined,
        validity: 'unknown',
        publiclyExposed: false,
        asset,
        locations: [location],
        reportedAt: isoOrUndefined(r.date) ?? ctx.receivedAt,
      },
      ctx,
    ),
  };
}

const isTrufflehog2 = (x: unknown) => typeof x === 'object' && x !== null && 'stringsFound' in x && 'reason' in x;

const parseTrufflehogResult = recordParser(TrufflehogResultSchema);

export function normalizeTrufflehog(record: unknown, ctx: ParseContext): Normalized {
  if (isTrufflehog2(record)) return normalizeTrufflehog2(record, ctx);
  const parsed = parseTrufflehogResult(record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const r = parsed.value;
  const where = sourceContext(r, ctx);
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'trufflehog',
        scannerId: [
          r.DetectorName,
          where.asset.id,
          where.commit ?? '',
          where.path ?? '',
          where.location.line ?? '',
        ].join(':'),
        ruleId: r.DetectorName,
        title: leakTitle(`${r.DetectorName} credential${r.Verified ? ' (verified)' : ''}`, where.path),
        detector: r.DetectorName,
        nhiType: nhiTypeFromDetector(r.DetectorName),
        secret: trufflehogSecret(r),
        // TruffleHog verifies against the provider: Verified=true means it works now.
        validity: r.Verified ? 'active' : 'unknown',
        publiclyExposed: where.publiclyExposed,
        asset: where.asset,
        locations: [where.location],
        reportedAt: isoOrUndefined(where.timestamp?.replace(/ ([+-]\d{4}) [+-]\d{4}$/, ' $1')) ?? ctx.receivedAt,
      },
      ctx,
    ),
  };
}

export const trufflehogFormat: SourceFormat = {
  name: 'trufflehog',
  label: 'TruffleHog JSON lines (v3: git, GitHub, GitLab, filesystem, Docker, S3 and other sources; v2)',
  shape: 'lines',
  detect: (first) =>
    (typeof first === 'object' && first !== null && 'DetectorName' in first && 'SourceMetadata' in first) ||
    isTrufflehog2(first),
  normalize: normalizeTrufflehog,
  scanner: () => 'trufflehog',
};
