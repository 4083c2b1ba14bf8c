/**
 * Whether a value a scanner reports as "the secret" really is one. Scanners redact
 * (`gitleaks --redact` writes `REDACTED`, `--redact=N` keeps a prefix and appends `...`), mask
 * (`*****`, `<REDACTED>`), report only a private key's armour line (gitleaks 7), or match a
 * placeholder. Hashing such a value would make every redacted exposure of every report one
 * finding, so those get a location identity instead and are never correlated by secret.
 */

/** Shortest value taken for a credential; anything shorter is a fragment or a placeholder. */
export const MIN_SECRET_LENGTH = 8;

const MASK_WORD = /^[<[({]?\s*(redacted|masked|hidden|removed|censored|omitted|secret|sensitive)\s*[>\])}]?$/i;
const REDACTED_ANYWHERE = /redacted/i;
const MASK_RUN = /\*{3,}|•{3,}|●{3,}|█{2,}|#{6,}/;
const TRUNCATED = /(\.\.\.|…)$/;
const ARMOUR_LINE = /^-----(BEGIN|END)[A-Z0-9 ]*-----$/;
const PEM_HEADER = /^[A-Za-z-]+:\s/;
const TOKEN = /^[A-Za-z0-9_+/=:@-]+$/;
const REPEATED = /^(.)\1*$/;
const PLACEHOLDERS = new Set([
  'password',
  'passwd',
  'changeme',
  'changeit',
  'example',
  'placeholder',
  'undefined',
  'dummy',
  'your_api_key',
  'your-api-key',
  'yourapikey',
  'xxxxxxxx',
]);

const LONGEST_PLACEHOLDER = Math.max(...[...PLACEHOLDERS].map((p) => p.length));

/** Why the value cannot stand for the secret (`"masked"`, `"armour only"`…), or undefined when it can. */
export function unusableSecretReason(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return 'empty';
  // The common case, a token of letters, digits and a few symbols, needs only these checks
  // (placeholders are short; a repeated character shows in the first two).
  if (v.length >= MIN_SECRET_LENGTH && TOKEN.test(v)) {
    if (REDACTED_ANYWHERE.test(v)) return 'redacted';
    if (v.length <= LONGEST_PLACEHOLDER && PLACEHOLDERS.has(v.toLowerCase())) return 'placeholder';
    if (v.charCodeAt(0) === v.charCodeAt(1) && REPEATED.test(v)) return 'placeholder';
    return undefined;
  }
  if (MASK_WORD.test(v) || REDACTED_ANYWHERE.test(v)) return 'redacted';
  if (MASK_RUN.test(v)) return 'masked';
  if (TRUNCATED.test(v)) return 'truncated';
  if (v.startsWith('-----BEGIN') && armourBodyLength(v) < 16) return 'armour only';
  const compact = v.replace(/\s+/g, '');
  if (PLACEHOLDERS.has(compact.toLowerCase()) || REPEATED.test(compact)) return 'placeholder';
  if (compact.length < MIN_SECRET_LENGTH) return 'too short';
  return undefined;
}

/** The value when it is a usable secret; undefined when absent, redacted, masked, armour-only or too short. */
export function knownSecret(value: string | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return unusableSecretReason(value) === undefined ? value : undefined;
}

/** Characters of a PEM block that are neither armour lines nor headers: the key material. */
function armourBodyLength(value: string): number {
  let body = 0;
  for (const line of value.split(/\r?\n|\r|\\n/)) {
    const l = line.trim();
    if (l === '' || PEM_HEADER.test(l)) continue;
    // A one-line block: the armour and the body on one line.
    const stripped = ARMOUR_LINE.test(l) ? '' : l.replace(/-----(BEGIN|END)[A-Z0-9 ]*-----/g, '');
    body += stripped.replace(/[^A-Za-z0-9+/=]/g, '').length;
  }
  return body;
}
