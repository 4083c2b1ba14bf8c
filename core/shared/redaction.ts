/**
 * Redaction for anything that did not pass through a parser's secret handling: quarantined
 * records, values echoed in error messages. Two layers: fields known to hold secrets are
 * replaced whole; every other string is scrubbed of credential-shaped substrings.
 */

/** Field names (lower-cased) whose values are secrets or lines that contain them, in any format. */
const SECRET_FIELDS = new Set([
  'secret',
  'match',
  'line',
  'raw',
  'rawv2',
  'redacted',
  'offender',
  'snippet',
  'text', // SARIF snippet.text
  'password',
  'token',
  'apikey',
  'api_key',
  'secretaccesskey',
  'private_key',
  'privatekey',
  'value',
  // Scanner fields that hold the secret, the line around it, or something derived from it.
  'secretparts', // TruffleHog
  'raw_source_code_extract', // GitLab
  'match_content', // Nosey Parker 0.16
  'groups', // Nosey Parker 0.17+ (base64 capture groups)
  'matching', // Nosey Parker snippet
  'before',
  'after',
  'hashed_secret', // detect-secrets (an unkeyed SHA-1 of the secret)
  'ignore_sha', // ggshield (an unkeyed SHA-256 of the secret)
  'content', // Trivy code lines
  'fragment', // gitleaks 8 composite rules
]);

const PATTERNS: RegExp[] = [
  /-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END[A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{12,}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{5,}\b/g, // JWT
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/gi, // credentials in a URL
];
/** Long high-entropy tokens (base64, hex, API keys): letters and digits mixed, 24 characters or more. */
const LONG_TOKEN = /\b(?=[A-Za-z0-9+/_=-]*\d)(?=[A-Za-z0-9+/_=-]*[A-Za-z])[A-Za-z0-9+/_=-]{24,}/g;
/** A URL path segment a person would read (`repos`, `secret-scanning`, `7`), not part of a token. */
const PATH_WORD = /^(?:[a-z][a-z_.-]*|\d+)$/;

/** `443/repos/acme/billing/secret-scanning/alerts/7` is an address, not a secret: kept for the operator. */
function isPlainPath(match: string): boolean {
  const segments = match.split('/');
  return segments.length > 2 && segments.every((segment) => segment === '' || PATH_WORD.test(segment));
}

export const REDACTED = '[REDACTED]';

/** Replaces credential-shaped substrings of free text. */
export function redactText(text: string): string {
  let out = text;
  for (const pattern of PATTERNS) out = out.replace(pattern, REDACTED);
  return out.replace(LONG_TOKEN, (match) => (isPlainPath(match) ? match : REDACTED));
}

/** A deep copy of a parsed record with secret fields replaced and all strings scrubbed. */
export function redactRecord(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactRecord(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] =
        SECRET_FIELDS.has(key.toLowerCase()) && v !== null && v !== undefined && v !== ''
          ? REDACTED
          : redactRecord(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Characters of a value looked at for a message; more cannot be shown in 40. */
const MAX_REDACTED_INPUT = 4096;

/** A short, redacted rendering of a value for an error message. */
export function describeValue(value: unknown, fieldName?: string): string {
  if (fieldName && SECRET_FIELDS.has(fieldName.toLowerCase())) return 'a value (not shown)';
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // Redacted whole, then cut: a secret that starts inside the first 40 characters and ends
    // after them is recognised only whole, and would otherwise leave its first characters.
    const redacted = redactText(value.length > MAX_REDACTED_INPUT ? value.slice(0, MAX_REDACTED_INPUT) : value);
    return JSON.stringify(redacted.length > 40 ? `${redacted.slice(0, 40)}…` : redacted);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}
