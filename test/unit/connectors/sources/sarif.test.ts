import { sarifFormat } from '@connectors/sources/sarif';
import type { Observation } from '@core/finding/model';
import { FIXTURE_SECRETS, readFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

function observeAll(doc: unknown): Observation[] {
  return sarifFormat.records!(doc).map((r) => {
    const result = sarifFormat.normalize(r, aContext());
    if (result.kind !== 'observation') throw new Error(JSON.stringify(result));
    return result.observation;
  });
}

describe('SARIF connector (contract: gitleaks 8 SARIF, gitleaks 7 SARIF, secretlint)', () => {
  it('takes the gitleaks 8 secret from the snippet and hashes it like the JSON report does', () => {
    const doc = readFixtureJson('scanners', 'gitleaks', 'sarif_simple.sarif');
    expect(sarifFormat.detect(doc)).toBe(true);
    const [o] = observeAll(doc);
    expect(o!.source.scanner).toBe('gitleaks');
    expect(o!.fingerprint).toBe(`secret:${aContext().hasher.hash('a secret')}`);
    expect(o!.locations[0]).toMatchObject({ path: 'auth.py', line: 1, commit: '0000000000000000' });
  });

  it('takes the gitleaks 7 secret from properties.offender and the rule from the message', () => {
    const observations = observeAll(readFixtureJson('scanners', 'sarif', 'defectdojo-gitleaks_7.5.0.sarif'));
    expect(observations.length).toBeGreaterThan(1);
    const aws = observations.find((o) => o.source.ruleId === 'AWS Access Key')!;
    expect(aws.fingerprint).toBe(`secret:${aContext().hasher.hash('AKIAIOSFODNN7EXAMPLE')}`);
    expect(aws.nhiType).toBe('cloud_access_key');
  });

  it('falls back to a location fingerprint when the scanner masks the secret (secretlint)', () => {
    const observations = observeAll(readFixtureJson('scanners', 'sarif', 'secretlint-output.sarif'));
    expect(observations).toHaveLength(3);
    for (const o of observations) {
      expect(o.secretHash).toBeUndefined();
      expect(o.fingerprint).toMatch(/^loc:[0-9a-f]{64}$/);
      expect(o.source.scanner).toBe('secretlint');
    }
  });

  it('carries no snippet, offender or message text into observations', () => {
    const all = [
      ...observeAll(readFixtureJson('scanners', 'gitleaks', 'sarif_simple.sarif')),
      ...observeAll(readFixtureJson('scanners', 'sarif', 'defectdojo-gitleaks_7.5.0.sarif')),
    ];
    const serialised = JSON.stringify(all);
    for (const secret of FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
    expect(serialised).not.toContain('raw_source_code_extract');
  });

  it('redacts a credential quoted in the message of a result that names no rule (the message then names the rule)', () => {
    const token = 'ghp_' + 'Qw7'.repeat(12);
    const doc = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'homegrown-scanner' } },
          results: [
            {
              message: { text: `token ${token} found` },
              locations: [
                { physicalLocation: { artifactLocation: { uri: 'ci/deploy.sh' }, region: { startLine: 4 } } },
              ],
            },
          ],
        },
      ],
    };
    const [o] = observeAll(doc);
    expect(o!.source.ruleId).toBe('token [REDACTED] found');
    expect(o!.title).toBe('token [REDACTED] found leaked in ci/deploy.sh');
    expect(JSON.stringify(o)).not.toContain(token);
  });

  it('rejects a result without locations, naming the field', () => {
    const doc = {
      version: '2.1.0',
      runs: [{ tool: { driver: { name: 'x' } }, results: [{ ruleId: 'r', message: { text: 't' }, locations: [] }] }],
    };
    const [record] = sarifFormat.records!(doc);
    expect(sarifFormat.normalize(record, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"locations" must have at least 1 item(s)'],
    });
  });
});
