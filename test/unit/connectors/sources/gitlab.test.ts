import { gitlabFormat } from '@connectors/sources/gitlab';
import { normalizeGitleaks } from '@connectors/sources/gitleaks';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { SCANNER_FIXTURE_SECRETS, readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (file: string) => readOwnFixtureJson('scanners', 'gitlab', file);
const normalizeAll = (doc: unknown, ctx = aContext()): Normalized[] =>
  gitlabFormat.records!(doc).map((r) => gitlabFormat.normalize(r, ctx));
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));

describe('GitLab secret detection report', () => {
  it('detects schema 15 and schema 14 reports', () => {
    expect(gitlabFormat.detect(fixture('v15.json'))).toBe(true);
    expect(gitlabFormat.detect(fixture('v14.json'))).toBe(true);
  });

  it('hashes raw_source_code_extract and correlates with gitleaks on the same AWS key', () => {
    const [aws] = observations(normalizeAll(fixture('v15.json')));
    const [gitleaks] = readOwnFixtureJson<unknown[]>('scanners', 'gitleaks', 'v8-git.json');
    const g = normalizeGitleaks(gitleaks, aContext());
    expect(aws!.secretHash).toBe(aContext().hasher.hash('AKIAQCLOSELOOPFAKE01'));
    expect(aws!.fingerprint).toBe(g.kind === 'observation' && g.observation.fingerprint);
    expect(aws).toMatchObject({
      detector: 'AWS',
      severity: 'critical',
      source: { scanner: 'gitlab-secret-detection' },
      locations: [{ kind: 'commit', path: 'deploy/terraform/keys.tf', line: 4 }],
    });
  });

  it('gives the armour-only private key extract a location identity', () => {
    const [, key] = observations(normalizeAll(fixture('v15.json')));
    expect(key!.secretHash).toBeUndefined();
    expect(key!.nhiType).toBe('private_key');
  });

  it('reads schema 14 (category, cve, the "0000000" placeholder commit of a directory scan)', () => {
    const [aws, stripe] = observations(normalizeAll(fixture('v14.json')));
    expect(aws!.locations[0]).toEqual({ kind: 'file', path: 'deploy/terraform/keys.tf', line: 4 });
    expect(stripe!.secretHash).toBe(aContext().hasher.hash('sk_live_closeloopFAKE000000000000000000'));
  });

  it('takes the asset from --asset: the report does not name the project', () => {
    const [aws] = observations(normalizeAll(fixture('v15.json'), aContext({ asset: 'gitlab.com/acme/payments-api' })));
    expect(aws!.asset).toEqual({ type: 'repository', id: 'gitlab.com/acme/payments-api' });
  });

  it('reads a clean report as no records from the gitlab-secret-detection scanner', () => {
    expect(gitlabFormat.records!(fixture('v15-empty.json'))).toEqual([]);
    expect(gitlabFormat.scanner!(fixture('v15-empty.json'))).toBe('gitlab-secret-detection');
  });

  it('refuses a SAST report: schema 15 has no per-vulnerability category to skip on', () => {
    expect(gitlabFormat.detect(fixture('sast.json'))).toBe(false);
    expect(() => gitlabFormat.records!(fixture('sast.json'))).toThrow('a GitLab sast report, not secret detection');
  });

  it('never carries the extract into observations', () => {
    const serialised = JSON.stringify([...normalizeAll(fixture('v15.json')), ...normalizeAll(fixture('v14.json'))]);
    for (const secret of SCANNER_FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
  });

  it('rejects a vulnerability without a location file, naming the field', () => {
    const [first] = gitlabFormat.records!(fixture('v15.json')) as Array<Record<string, unknown>>;
    expect(gitlabFormat.normalize({ ...first, location: { start_line: 3 } }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"location.file" is required'],
    });
  });
});
