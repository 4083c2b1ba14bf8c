import { z } from 'zod';
import { nhiTypeFromDetector } from '@core/finding/standards';
import type { Location } from '@core/finding/model';
import {
  isoOrUndefined,
  leakObservation,
  leakTitle,
  normaliseRepository,
  repositoryAsset,
  repositoryFromLink,
} from './common';
import { parseRecord } from '@core/shared/problems';
import type { Normalized, ParseContext, SourceFormat } from './types';

const GitMetadataSchema = z.object({
  commit: z.string().optional(),
  file: z.string().optional(),
  email: z.string().optional(),
  repository: z.string().optional(),
  timestamp: z.string().optional(),
  line: z.number().int().optional(),
  link: z.string().optional(),
  visibility: z.union([z.number(), z.string()]).optional(),
});

const FilesystemMetadataSchema = z.object({ file: z.string(), line: z.number().int().optional() });

/** One line of `trufflehog … --json` (v3). `Raw`/`RawV2` are base64: Go encodes []byte that way. */
export const TrufflehogResultSchema = z.object({
  SourceMetadata: z.object({
    Data: z
      .object({
        Git: GitMetadataSchema.optional(),
        Github: GitMetadataSchema.optional(),
        Gitlab: GitMetadataSchema.optional(),
        Filesystem: FilesystemMetadataSchema.optional(),
      })
      .catchall(z.unknown()),
  }),
  SourceID: z.number().optional(),
  SourceType: z.number().optional(),
  SourceName: z.string().optional(),
  DetectorType: z.number().optional(),
  DetectorName: z.string().min(1),
  DecoderName: z.string().optional(),
  Verified: z.boolean(),
  VerificationError: z.string().optional(),
  Raw: z.string().optional(),
  RawV2: z.string().optional(),
  Redacted: z.string().optional(),
  ExtraData: z.record(z.string(), z.unknown()).nullish(),
});

/** Go's encoding/json writes []byte as standard base64; a value that is not base64 is used as is. */
export function decodeGoBytes(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return value;
  return Buffer.from(value, 'base64').toString('utf8');
}

export function normalizeTrufflehog(record: unknown, ctx: ParseContext): Normalized {
  const parsed = parseRecord(TrufflehogResultSchema, record);
  if (!parsed.ok) return { kind: 'rejected', problems: parsed.problems };
  const r = parsed.value;
  const data = r.SourceMetadata.Data;
  const git = data.Git ?? data.Github ?? data.Gitlab;
  const fs = data.Filesystem;
  const repository = normaliseRepository(git?.repository) ?? repositoryFromLink(git?.link);
  const asset = repositoryAsset(repository, ctx);
  const path = git?.file ?? fs?.file;
  const line = git?.line ?? fs?.line;
  const location: Location = {
    kind: git?.commit ? 'commit' : 'file',
    ...(asset.type === 'repository' ? { repository: asset.id } : {}),
    ...(path ? { path } : {}),
    ...(line !== undefined ? { line } : {}),
    ...(git?.commit ? { commit: git.commit } : {}),
    ...(git?.link ? { url: git.link } : {}),
  };
  // RawV2 carries the full credential for multi-part secrets (id + secret); prefer it.
  const secret = decodeGoBytes(r.RawV2) ?? decodeGoBytes(r.Raw);
  const extra = r.ExtraData ?? {};
  const awsAccount = typeof extra.account === 'string' ? extra.account : undefined;
  const publiclyExposed = git?.visibility === 1 || git?.visibility === 'public';
  return {
    kind: 'observation',
    observation: leakObservation(
      {
        scanner: 'trufflehog',
        scannerId: [r.DetectorName, repository ?? '', git?.commit ?? '', path ?? '', line ?? ''].join(':'),
        ruleId: r.DetectorName,
        title: leakTitle(`${r.DetectorName} credential${r.Verified ? ' (verified)' : ''}`, path),
        detector: r.DetectorName,
        nhiType: nhiTypeFromDetector(r.DetectorName),
        secret,
        // TruffleHog verifies against the provider: Verified=true means it works now.
        validity: r.Verified ? 'active' : 'unknown',
        publiclyExposed,
        asset: awsAccount && asset.type === 'unspecified' ? { type: 'aws_account', id: awsAccount } : asset,
        locations: [location],
        reportedAt: isoOrUndefined(git?.timestamp?.replace(/ ([+-]\d{4}) [+-]\d{4}$/, ' $1')) ?? ctx.receivedAt,
        fallbackIdentity: [r.DetectorName, repository ?? '', path ?? '', String(line ?? '')],
      },
      ctx,
    ),
  };
}

export const trufflehogFormat: SourceFormat = {
  name: 'trufflehog',
  label: 'TruffleHog v3 JSON lines (git, github, filesystem sources)',
  shape: 'lines',
  detect: (first) =>
    typeof first === 'object' && first !== null && 'DetectorName' in first && 'SourceMetadata' in first,
  normalize: normalizeTrufflehog,
};
