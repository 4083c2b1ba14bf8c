import type { NhiType, OwaspNhi, Severity, Validity } from './model';

/**
 * What kind of exposure a finding is. Drives OWASP NHI / NIST CSF mapping and severity.
 * - leaked_secret: a credential found in code, history, tickets, chat
 * - stale_credential: a credential not rotated within policy
 * - unused_credential: a credential or identity unused past a threshold (offboarding)
 * - excessive_access: an identity with more access than it needs, or access from outside
 * - anomalous_use: a credential used in a way that suggests compromise
 * - multiple_active_keys: more than one active key for one identity
 * - root_credential: a long-lived root access key
 * - insecure_authentication: workloads authenticate in a weak way (static token files, unchecked service-account tokens)
 */
export type ExposureKind =
  | 'leaked_secret'
  | 'stale_credential'
  | 'unused_credential'
  | 'excessive_access'
  | 'anomalous_use'
  | 'multiple_active_keys'
  | 'root_credential'
  | 'insecure_authentication';

/** OWASP NHI Top 10 (2025) ids for an exposure kind. */
export const OWASP_NHI_BY_KIND: Record<ExposureKind, OwaspNhi[]> = {
  leaked_secret: ['NHI2'],
  stale_credential: ['NHI7'],
  unused_credential: ['NHI1'],
  excessive_access: ['NHI5'],
  anomalous_use: ['NHI2'],
  multiple_active_keys: ['NHI7'],
  root_credential: ['NHI5', 'NHI10'],
  insecure_authentication: ['NHI4'],
};

/** NIST CSF 2.0 subcategories an exposure kind evidences a gap in. */
export const NIST_CSF_BY_KIND: Record<ExposureKind, string[]> = {
  leaked_secret: ['ID.RA-01', 'PR.AA-01', 'PR.DS-01'],
  stale_credential: ['ID.RA-01', 'PR.AA-01'],
  unused_credential: ['ID.RA-01', 'PR.AA-01', 'PR.AA-05'],
  excessive_access: ['ID.RA-01', 'PR.AA-05'],
  anomalous_use: ['DE.CM-01', 'DE.AE-02', 'PR.AA-01'],
  multiple_active_keys: ['ID.RA-01', 'PR.AA-01'],
  root_credential: ['ID.RA-01', 'PR.AA-05'],
  insecure_authentication: ['ID.RA-01', 'PR.AA-03'],
};

/** NHI9 (reuse) is added when one secret is found in more than one asset. */
export const REUSE_ID: OwaspNhi = 'NHI9';

const RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
const BY_RANK: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Ordering rank (0 = critical). */
export function severityRank(severity: Severity): number {
  return RANK[severity];
}

/** The more severe of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return RANK[a] <= RANK[b] ? a : b;
}

const BASE_LEAK_SEVERITY: Record<NhiType, Severity> = {
  cloud_access_key: 'high',
  private_key: 'high',
  service_account: 'high',
  database_credential: 'high',
  oauth_token: 'medium',
  api_key: 'medium',
  password: 'medium',
  certificate: 'medium',
  webhook_url: 'low',
  generic_secret: 'medium',
};

/**
 * Severity of a leaked secret from what it is, whether it works and where it was seen.
 * An active credential is one step worse, an inactive one step better; public exposure is
 * one step worse. A verified, active cloud key is always critical.
 */
export function leakSeverity(input: { nhiType: NhiType; validity: Validity; publiclyExposed: boolean }): Severity {
  if (input.nhiType === 'cloud_access_key' && input.validity === 'active') return 'critical';
  let rank = RANK[BASE_LEAK_SEVERITY[input.nhiType]];
  if (input.validity === 'active') rank -= 1;
  if (input.validity === 'inactive') rank += 1;
  if (input.publiclyExposed) rank -= 1;
  return BY_RANK[Math.min(Math.max(rank, 0), 3)]!;
}

const detectorTypes = new Map<string, Map<string, NhiType>>();

/**
 * Maps a scanner's rule or detector name, and optionally its description, to the NHI type it
 * finds. Memoised by the two strings as they come (reports repeat rules), so the hot path
 * builds no joined string.
 */
export function nhiTypeFromDetector(detector: string, description = ''): NhiType {
  let byDescription = detectorTypes.get(detector);
  if (byDescription === undefined) {
    if (detectorTypes.size > 10_000) detectorTypes.clear();
    byDescription = new Map();
    detectorTypes.set(detector, byDescription);
  }
  let type = byDescription.get(description);
  if (type === undefined) {
    type = classifyDetector(description === '' ? detector : `${detector} ${description}`);
    if (byDescription.size > 1_000) byDescription.clear();
    byDescription.set(description, type);
  }
  return type;
}

function classifyDetector(detector: string): NhiType {
  const d = detector.toLowerCase().replace(/[\s_-]+/g, ' ');
  if (
    /\b(aws|amazon|gcp|google cloud|azure|alibaba|ibm cloud|digitalocean|cloudflare api)\b/.test(d) &&
    /(key|token|iam|secret|credential|access)/.test(d)
  )
    return 'cloud_access_key';
  if (/^aws$|aws iam|aws access|aws secret/.test(d)) return 'cloud_access_key';
  if (/private ?key|rsa pk|\bpk\b|ssh|pem|pgp|openssh/.test(d)) return 'private_key';
  if (/service account|gcp json|serviceaccount/.test(d)) return 'service_account';
  if (/certificate|\bcert\b|pkcs/.test(d)) return 'certificate';
  if (/webhook|hooks slack|discord webhook/.test(d)) return 'webhook_url';
  if (
    /oauth|refresh token|bearer|jwt|personal access token|\bpat\b|access token|app token|bot token|slack token|session/.test(
      d,
    )
  )
    return 'oauth_token';
  if (/postgres|mysql|mongodb|redis|jdbc|database|db password|connection string/.test(d)) return 'database_credential';
  if (/\buri\b|url with|basic auth|http auth/.test(d)) return 'password';
  if (/password|passwd|pwd/.test(d)) return 'password';
  if (/api ?key|apikey|api token|key$|_key|secret key|client secret|token/.test(d)) return 'api_key';
  return 'generic_secret';
}
