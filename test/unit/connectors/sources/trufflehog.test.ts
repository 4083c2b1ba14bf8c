import { decodeLegacyBase64, normalizeTrufflehog, trufflehogFormat } from '@connectors/sources/trufflehog';
import { normalizeGitleaks } from '@connectors/sources/gitleaks';
import type { Observation } from '@core/finding/model';
import { SCANNER_FIXTURE_SECRETS, readOwnFixtureJson, readOwnFixtureLines } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const AWS_ID = 'AKIAQCLOSELOOPFAKE01';
const AWS_SECRET = 'Fake/CloseloopSecretKey+NotReal/00000000';
const HEX40 = 'c105e100bfa4e000000000000000000000f4ce01';

const observe = (r: unknown): Observation => {
  const result = normalizeTrufflehog(r, aContext());
  if (result.kind !== 'observation') throw new Error(JSON.stringify(result));
  return result.observation;
};
const lines = (file: string) => readOwnFixtureLines<Record<string, unknown>>('scanners', 'trufflehog', file);
const hash = (secret: string) => aContext().hasher.hash(secret);

describe('TruffleHog v3 JSON lines', () => {
  const old = lines('v3-2022-base64.jsonl');
  const current = lines('v3-current.jsonl');

  it('detects both layouts from the first line', () => {
    expect(trufflehogFormat.detect(old[0])).toBe(true);
    expect(trufflehogFormat.detect(current[0])).toBe(true);
  });

  it('hashes the plain Raw of current TruffleHog as it is: an AWS key id is not decoded as base64', () => {
    expect(observe(current[0]).secretHash).toBe(hash(AWS_ID));
  });

  it('decodes the 2022 base64 layout to the same secrets', () => {
    expect(old.map((r) => observe(r).secretHash)).toEqual(current.map((r) => observe(r).secretHash));
    expect(observe(old[0]).secretHash).toBe(hash(AWS_ID));
  });

  it('gives the old and the current output of one repository three findings, not four', () => {
    const fingerprints = new Set([...old, ...current].map((r) => observe(r).fingerprint));
    expect(fingerprints.size).toBe(3);
  });

  it('correlates current TruffleHog and gitleaks on the same AWS key', () => {
    const [gitleaksAws] = readOwnFixtureJson<unknown[]>('scanners', 'gitleaks', 'v8-git.json');
    const g = normalizeGitleaks(gitleaksAws, aContext());
    expect(g.kind === 'observation' && g.observation.fingerprint).toBe(observe(current[0]).fingerprint);
  });

  it('keeps plain values that happen to be valid base64 when the optional fields are missing', () => {
    const [id, secretKey, hex] = lines('minimal-plain.jsonl').map(observe);
    expect(id!.secretHash).toBe(hash(AWS_ID));
    expect(secretKey!.secretHash).toBe(hash(AWS_SECRET));
    expect(hex!.secretHash).toBe(hash(HEX40));
  });

  it.each([
    ['an AWS key id', AWS_ID],
    ['a 40-character AWS secret key with + and /', AWS_SECRET],
    ['a 40-hex token', HEX40],
  ])('does not take %s for base64', (_, value) => {
    expect(Buffer.from(value, 'base64').length).toBeGreaterThan(0);
    expect(decodeLegacyBase64(value, undefined)).toBeUndefined();
  });

  it('decodes base64 only when the text is consistent with Redacted', () => {
    const encoded = Buffer.from('https://deploy:pass-1234@example.com/x').toString('base64');
    expect(decodeLegacyBase64(encoded, 'https://deploy:****@example.com/x')).toBe(
      'https://deploy:pass-1234@example.com/x',
    );
    expect(decodeLegacyBase64(encoded, 'https://other.example.com')).toBeUndefined();
  });

  it('records the repository, file, line and commit; a verified AWS key is critical', () => {
    const o = observe(current[0]);
    expect(o).toMatchObject({
      nhiType: 'cloud_access_key',
      validity: 'active',
      severity: 'critical',
      asset: { type: 'repository', id: 'github.com/acme/payments-api' },
    });
    expect(o.locations[0]).toMatchObject({
      path: 'deploy/terraform/keys.tf',
      line: 4,
      commit: '3f2a9c1d7e5b4a608c9d2e1f0a7b6c5d4e3f2a1b',
    });
  });

  it('reads other sources: filesystem, a private GitHub repository, a Docker image, an S3 bucket', () => {
    const [fs, github, docker, s3] = lines('v3-current-sources.jsonl').map(observe);
    expect(fs!.asset).toEqual({ type: 'unspecified', id: 'unspecified' });
    expect(fs!.locations[0]).toMatchObject({ kind: 'file', path: 'services/billing/.env', line: 2 });
    expect(github!.asset).toEqual({ type: 'repository', id: 'github.com/acme/payments-api' });
    // Visibility 1 is private: not an exposure in public.
    expect(github!.publiclyExposed).toBe(false);
    // The image without its tag: the next build's image is the same asset.
    expect(docker!.asset).toEqual({ type: 'container_image', id: 'ghcr.io/acme/billing-worker' });
    expect(docker!.locations[0]).toMatchObject({ path: '/app/config/settings.py' });
    expect(s3!.asset).toEqual({ type: 'aws_resource', id: 'arn:aws:s3:::acme-ci-artifacts' });
    expect(s3!.secretHash).toBe(hash(AWS_ID));
  });

  it('takes the asset from --asset for a filesystem scan', () => {
    const [fs] = lines('v3-current-sources.jsonl');
    const result = normalizeTrufflehog(fs, aContext({ asset: 'github.com/acme/billing' }));
    expect(result.kind === 'observation' && result.observation.asset).toEqual({
      type: 'repository',
      id: 'github.com/acme/billing',
    });
  });

  it('never carries Raw, RawV2 or Redacted values, plain or base64, into observations', () => {
    const all = [...old, ...current, ...lines('v3-current-sources.jsonl'), ...lines('minimal-plain.jsonl')];
    const serialised = JSON.stringify(all.map(observe));
    for (const secret of SCANNER_FIXTURE_SECRETS) {
      expect(serialised).not.toContain(secret);
      expect(serialised).not.toContain(Buffer.from(secret).toString('base64'));
    }
    expect(serialised).not.toContain('LS0tLS1CRUdJTi');
  });

  it('rejects a line without DetectorName', () => {
    const { DetectorName: _d, ...rest } = current[0]!;
    expect(normalizeTrufflehog(rest, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"DetectorName" is required'],
    });
  });
});
