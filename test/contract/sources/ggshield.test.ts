import { ggshieldFormat } from '@connectors/sources/ggshield';
import { readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

describe('ggshield JSON (contract: DefectDojo samples of a commit-range scan)', () => {
  it('reads the masked Django secret key by location, on its commit', () => {
    const doc = readFixtureJson('scanners', 'ggshield', 'one_finding.json');
    expect(ggshieldFormat.detect(doc)).toBe(true);
    const [result] = ggshieldFormat.records!(doc).map((r) => ggshieldFormat.normalize(r, aContext()));
    expect(result).toMatchObject({
      kind: 'observation',
      observation: {
        detector: 'Django Secret Key',
        source: { scanner: 'ggshield' },
        locations: [{ kind: 'commit', path: 'wapf/settings.py', commit: '8f388be3452f8d9f20ed788c94ebc11faa8ae7b6' }],
      },
    });
    const o = (result as { observation: { secretHash?: string; fingerprint: string } }).observation;
    // The match is masked: its ignore_sha proves it is not the secret.
    expect(o.secretHash).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain('dtzi36g3');
    expect(JSON.stringify(result)).not.toContain('06b15f1d8c0095386c7bbc4f423f5ec30b41b22b1565a836e55b978202ba569b');
  });

  it('reads a scan with nothing found as a clean scan of ggshield', () => {
    const doc = readFixtureJson('scanners', 'ggshield', 'no_finding.json');
    expect(ggshieldFormat.detect(doc)).toBe(true);
    expect(ggshieldFormat.records!(doc)).toEqual([]);
    expect(ggshieldFormat.scanner!(doc)).toBe('ggshield');
  });
});
