import { randomBytes } from 'node:crypto';
import { SecretHasher } from '@core/finding/identity';
import type { Observation } from '@core/finding/model';
import type { ParseContext } from '@connectors/sources/types';

export const TEST_KEY = Buffer.alloc(32, 7);
export const aHasher = () => new SecretHasher(TEST_KEY);
export const aContext = (overrides: Partial<ParseContext> = {}): ParseContext => ({
  hasher: aHasher(),
  receivedAt: '2026-11-01T00:00:00.000Z',
  ...overrides,
});

/** A gitleaks v8 record with overrides; the secret is random unless given. */
export function aGitleaksRecord(overrides: Record<string, unknown> = {}) {
  const secret = (overrides.Secret as string | undefined) ?? `tok_${randomBytes(12).toString('hex')}`;
  return {
    RuleID: 'generic-api-key',
    Description: 'Generic API Key',
    StartLine: 10,
    EndLine: 10,
    StartColumn: 1,
    EndColumn: 40,
    Match: `API_KEY=${secret}`,
    Secret: secret,
    File: 'src/config.ts',
    SymlinkFile: '',
    Commit: 'abc123',
    Entropy: 4.1,
    Author: 'a',
    Email: 'a@example.com',
    Date: '2026-10-01T00:00:00Z',
    Message: 'm',
    Tags: [],
    Fingerprint: `abc123:src/config.ts:generic-api-key:${String(overrides.StartLine ?? 10)}`,
    ...overrides,
  };
}

/** An observation with overrides (domain-level tests). */
export function anObservation(overrides: Partial<Observation> = {}): Observation {
  return {
    fingerprint: `secret:${'a'.repeat(64)}`,
    secretHash: 'a'.repeat(64),
    secretPreview: 'tok_…(28)',
    title: 'Generic API Key leaked in src/config.ts',
    nhiType: 'api_key',
    detector: 'generic-api-key',
    severity: 'medium',
    validity: 'unknown',
    publiclyExposed: false,
    asset: { type: 'repository', id: 'github.com/acme/api' },
    locations: [{ kind: 'file', repository: 'github.com/acme/api', path: 'src/config.ts', line: 10 }],
    source: {
      scanner: 'gitleaks',
      scannerId: 'abc:src/config.ts:10',
      ruleId: 'generic-api-key',
      firstReportedAt: '2026-10-01T00:00:00.000Z',
      state: 'open',
    },
    owaspNhi: ['NHI2'],
    nistCsf: ['ID.RA-01', 'PR.AA-01'],
    ...overrides,
  };
}
