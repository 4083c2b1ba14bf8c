import { knownSecret, unusableSecretReason } from '@connectors/sources/secret-value';

describe('telling a secret from what scanners print in its place', () => {
  it.each([
    ['REDACTED', 'redacted'], // gitleaks --redact
    ['<REDACTED>', 'redacted'],
    ['[redacted]', 'redacted'],
    ['AKIA...REDACTED', 'redacted'],
    ['*****', 'masked'], // Trivy
    ['ENV GITHUB_PAT=*****', 'masked'],
    ['&dtzi36g3***************-*****+**********ljel3*ji5', 'masked'], // ggshield
    ['AKIAQCLO...', 'truncated'], // gitleaks --redact=60
    ['sk_live_clo…', 'truncated'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----', 'armour only'], // gitleaks 7
    ['-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----', 'armour only'],
    ['-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n', 'armour only'],
    ['password', 'placeholder'],
    ['changeme', 'placeholder'],
    ['xxxxxxxxxxxxxxxx', 'placeholder'],
    ['secret', 'redacted'],
    ['hunter2', 'too short'],
    ['a secret', 'too short'],
    ['   ', 'empty'],
  ])('%j is not a secret (%s)', (value, reason) => {
    expect(unusableSecretReason(value)).toBe(reason);
    expect(knownSecret(value)).toBeUndefined();
  });

  it.each([
    'AKIAQCLOSELOOPFAKE01',
    'Fake/CloseloopSecretKey+NotReal/00000000',
    'c105e100bfa4e000000000000000000000f4ce01',
    'https://deploy:closeloop-fake-pass@git.example.com/acme/payments-api.git',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACkNMT1NFTE9PUEZBS0VLRVlOT1RSRUFMAAAAAA\n-----END OPENSSH PRIVATE KEY-----',
    'Closeloop-Fake-DB-Passw0rd!',
  ])('takes %j as the secret', (value) => {
    expect(knownSecret(value)).toBe(value);
  });
});
