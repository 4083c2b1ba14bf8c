import { createHmac } from 'node:crypto';
import { FindingIdSchema, SecretHasher, findingIdFor, parseFindingId, previewSecret } from '@core/finding/identity';
import { REDACTED, describeValue, redactRecord, redactText } from '@core/shared/redaction';
import { leakSeverity, nhiTypeFromDetector } from '@core/finding/standards';

describe('secret hashing and previews', () => {
  const hasher = new SecretHasher(Buffer.alloc(32, 1));

  it('is keyed: another deployment key gives another hash', () => {
    expect(hasher.hash('AKIACLOSELOOPFAKE001')).not.toBe(
      new SecretHasher(Buffer.alloc(32, 2)).hash('AKIACLOSELOOPFAKE001'),
    );
  });

  it('is HMAC-SHA256 under the deployment key, whatever the lengths of key and secret, call after call', () => {
    const secrets = ['AKIACLOSELOOPFAKE001', 'x'.repeat(5000), 'clé-ünïcødé-FAKE-0001', 'short', 'A'.repeat(1024), 'B'];
    for (const key of [Buffer.alloc(32, 7), Buffer.alloc(64, 8), Buffer.alloc(100, 9)]) {
      const keyed = new SecretHasher(key);
      // Twice over, long after short and short after long: the reused buffers hold nothing over.
      for (const secret of [...secrets, ...[...secrets].reverse()])
        expect(keyed.hash(secret)).toBe(createHmac('sha256', key).update(secret, 'utf8').digest('hex'));
    }
  });

  it('ignores whitespace, so a wrapped secret is the same secret', () => {
    expect(hasher.hash('abc\r\ndef')).toBe(hasher.hash('abcdef'));
  });

  it('refuses a short deployment key', () => {
    expect(() => new SecretHasher(Buffer.alloc(16))).toThrow('deployment key must be at least 32 bytes');
  });

  it('previews four characters of long secrets and none of short ones', () => {
    expect(previewSecret('AKIACLOSELOOPFAKE001')).toBe('AKIA…(20)');
    expect(previewSecret('hunter2')).toBe('****(7)');
  });

  it('derives a stable id from the fingerprint', () => {
    expect(findingIdFor('secret:abc')).toBe(findingIdFor('secret:abc'));
    expect(FindingIdSchema.safeParse(findingIdFor('secret:abc')).success).toBe(true);
  });

  it('takes a typed finding id in any case and gives its stored form', () => {
    expect(parseFindingId('nhi-00000000000abcde')).toBe('NHI-00000000000ABCDE');
  });

  it('refuses what is not a finding id, naming the field and showing what was given', () => {
    expect(() => parseFindingId('not-an-id')).toThrow(
      'finding id must look like NHI-0123456789ABCDEF, got "not-an-id"',
    );
    expect(() => parseFindingId('NHI-123', 'finding')).toThrow(
      'finding must look like NHI-0123456789ABCDEF, got "NHI-123"',
    );
    expect(FindingIdSchema.safeParse('nhi-00000000000abcde').success).toBe(false);
  });
});

describe('redaction', () => {
  it('scrubs credential shapes from free text', () => {
    const text =
      'key AKIAYVP4CIPPERUVIFXG url https://admin:hunter2@example.com token ghp_abcdefghijklmnopqrstuvwxyz0123';
    const out = redactText(text);
    expect(out).not.toMatch(/AKIAYVP4|hunter2|ghp_abcdef/);
    expect(out).toContain(REDACTED);
  });

  it('keeps the address in an error, but not a token with slashes in it', () => {
    const error = 'http://127.0.0.1:43215/repos/acme/billing/secret-scanning/alerts/7: HTTP 500 after retries';
    expect(redactText(error)).toBe(error);
    for (const secret of ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'ab/cd/0123456789abcdef0123456789abcdef'])
      expect(redactText(`key ${secret} end`)).toBe(`key ${REDACTED} end`);
  });

  it('replaces known secret fields whole and scrubs the rest of a record', () => {
    const out = redactRecord({
      Secret: 'x',
      Match: 'API=x',
      File: 'a.ts',
      nested: { Raw: 'QUtJQQ==', note: 'AKIAYVP4CIPPERUVIFXG here' },
    });
    expect(out).toEqual({
      Secret: REDACTED,
      Match: REDACTED,
      File: 'a.ts',
      nested: { Raw: REDACTED, note: `${REDACTED} here` },
    });
  });

  it('describes values for messages without showing secret fields', () => {
    expect(describeValue('ten', 'StartLine')).toBe('"ten"');
    expect(describeValue('AKIAYVP4CIPPERUVIFXG', 'Secret')).toBe('a value (not shown)');
    expect(describeValue('AKIAYVP4CIPPERUVIFXG', 'File')).toBe(`"${REDACTED}"`);
  });
});

describe('severity and NHI type', () => {
  it('makes a verified, active cloud key critical', () => {
    expect(leakSeverity({ nhiType: 'cloud_access_key', validity: 'active', publiclyExposed: false })).toBe('critical');
  });

  it('lowers an inactive credential and raises a public one', () => {
    expect(leakSeverity({ nhiType: 'api_key', validity: 'inactive', publiclyExposed: false })).toBe('low');
    expect(leakSeverity({ nhiType: 'api_key', validity: 'unknown', publiclyExposed: true })).toBe('high');
  });

  it.each([
    ['aws-access-token', 'cloud_access_key'],
    ['PrivateKey', 'private_key'],
    ['RSA-PK', 'private_key'],
    ['github_personal_access_token', 'oauth_token'],
    ['SlackWebhook', 'webhook_url'],
    ['generic-api-key', 'api_key'],
    ['URI', 'password'],
  ])('maps detector %s to %s', (detector, type) => {
    expect(nhiTypeFromDetector(detector)).toBe(type);
  });

  it('reads the description too, and remembers each rule and description pair on its own', () => {
    expect(nhiTypeFromDetector('custom-rule-7', 'AWS access key')).toBe('cloud_access_key');
    expect(nhiTypeFromDetector('custom-rule-7', 'Slack webhook')).toBe('webhook_url');
    expect(nhiTypeFromDetector('custom-rule-7')).toBe('generic_secret');
  });
});

describe('HMAC implementation', () => {
  it('equals createHmac for short, block-sized and long keys', () => {
    const { createHmac } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    for (const key of [Buffer.alloc(32, 9), Buffer.alloc(64, 3), Buffer.alloc(100, 5)]) {
      // One hasher for all: it reuses its buffers, so a short secret after a long one
      // (which grew them) must not pick up the long one's tail.
      const keyed = new SecretHasher(key);
      for (const secret of [
        'AKIACLOSELOOPFAKE001',
        'x'.repeat(500),
        'ünïcode-sëcret',
        'p'.repeat(5000),
        'AKIACLOSELOOPFAKE002',
      ]) {
        expect(keyed.hash(secret)).toBe(createHmac('sha256', key).update(secret).digest('hex'));
      }
    }
  });

  it('does not keep the last secret in the buffers it reuses', () => {
    const hasher = new SecretHasher(Buffer.alloc(32, 7));
    const secret = 'AKIACLOSELOOPFAKE003';
    hasher.hash(secret);
    // Its private state, read the way a heap dump would see it.
    const buffers = Object.values(hasher as unknown as Record<string, unknown>).filter((v): v is Buffer =>
      Buffer.isBuffer(v),
    );
    expect(buffers.length).toBeGreaterThan(0);
    for (const buffer of buffers) expect(buffer.includes(secret)).toBe(false);
  });
});
