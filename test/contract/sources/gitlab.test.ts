import { gitlabFormat } from '@connectors/sources/gitlab';
import { sarifFormat } from '@connectors/sources/sarif';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { FIXTURE_SECRETS, readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

const report = (file: string) => readFixtureJson('scanners', 'gitlab-secret-detection', file);
const normalizeAll = (doc: unknown): Normalized[] =>
  gitlabFormat.records!(doc).map((r) => gitlabFormat.normalize(r, aContext()));
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));

describe('GitLab secret detection (contract: DefectDojo samples, schema 14 and 15)', () => {
  it.each([
    ['gitlab_secret_detection_report_0_vuln.json', 0],
    ['gitlab_secret_detection_report_1_vuln_v14.json', 1],
    ['gitlab_secret_detection_report_3_vuln_v15.json', 3],
  ])('detects %s and reads %d secrets', (file, count) => {
    const doc = report(file);
    expect(gitlabFormat.detect(doc)).toBe(true);
    expect(observations(normalizeAll(doc))).toHaveLength(count);
  });

  it('correlates the AWS key with the gitleaks 7 SARIF that found the same key', () => {
    const [aws] = observations(normalizeAll(report('gitlab_secret_detection_report_1_vuln_v14.json')));
    const sarif = readFixtureJson('scanners', 'sarif', 'defectdojo-gitleaks_7.5.0.sarif');
    const fromSarif = sarifFormat.records!(sarif).map((r) => sarifFormat.normalize(r, aContext()));
    const gitleaksAws = observations(fromSarif).find((o) => o.source.ruleId === 'AWS Access Key')!;
    expect(aws!.fingerprint).toBe(gitleaksAws.fingerprint);
  });

  it('gives the armour-only SSH key extract a location identity, and hashes the URL password', () => {
    const [key, aws, url] = observations(normalizeAll(report('gitlab_secret_detection_report_3_vuln_v15.json')));
    expect(key!.secretHash).toBeUndefined();
    expect(aws!.secretHash).toBe(aContext().hasher.hash('AKIAIOSFODNN7EXAMPLE'));
    expect(url!.secretHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names its scanner for a clean scan and carries no secret', () => {
    expect(gitlabFormat.scanner!(report('gitlab_secret_detection_report_0_vuln.json'))).toBe('gitlab-secret-detection');
    const serialised = JSON.stringify(normalizeAll(report('gitlab_secret_detection_report_3_vuln_v15.json')));
    for (const secret of FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
    expect(serialised).not.toContain('random:password');
  });
});
