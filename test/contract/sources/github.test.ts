import { githubFormat, githubAliasKey } from '@connectors/sources/github';
import type { Normalized } from '@connectors/sources/types';
import { FIXTURE_SECRETS, readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

const normalizeAll = (doc: unknown): Normalized[] =>
  githubFormat.records!(doc).map((r) => githubFormat.normalize(r, aContext()));

describe('GitHub secret scanning connector (contract: REST lists and webhook payload)', () => {
  it('normalises the repository alert list, taking the repository from the alert URL', () => {
    const doc = readFixtureJson('scanners', 'github-secret-scanning', 'octocrab-repo-secret-scanning-alerts.json');
    expect(githubFormat.detect(doc)).toBe(true);
    const [first] = normalizeAll(doc);
    expect(first).toMatchObject({
      kind: 'observation',
      observation: {
        asset: { type: 'repository', id: 'github.com/owner/private-repo' },
        validity: 'inactive',
        source: { scanner: 'github-secret-scanning', scannerId: 'owner/private-repo#2', state: 'resolved' },
        aliasKey: githubAliasKey('owner/private-repo', 2),
      },
    });
  });

  it('normalises the organisation list with repository objects and first locations', () => {
    const results = normalizeAll(
      readFixtureJson('scanners', 'github-secret-scanning', 'defectdojo-org-secret-scanning-alerts-many.json'),
    );
    expect(results).toHaveLength(3);
    const open = results
      .map((r) => (r.kind === 'observation' ? r.observation : undefined))
      .find((o) => o?.source.state === 'open')!;
    expect(open.nhiType).toBe('cloud_access_key');
    expect(open.asset.id).toBe('github.com/octocat/hello-world');
    expect(JSON.stringify(results)).not.toContain('aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX');
    for (const secret of FIXTURE_SECRETS) expect(JSON.stringify(results)).not.toContain(secret);
  });

  it('reads the secret_scanning_alert webhook (no secret) under the alert alias', () => {
    const doc = readFixtureJson(
      'scanners',
      'github-secret-scanning',
      'webhook-secret_scanning_alert.reopened.payload.json',
    );
    expect(githubFormat.detect(doc)).toBe(true);
    const [result] = normalizeAll(doc);
    expect(result).toMatchObject({
      kind: 'observation',
      observation: {
        aliasKey: 'github:codertocat/hello-world#191',
        source: { state: 'open', ruleId: 'adafruit_io_key' },
        asset: { id: 'github.com/codertocat/hello-world' },
      },
    });
    expect((result as { observation: { secretHash?: string } }).observation.secretHash).toBeUndefined();
  });

  it('rejects an alert with an unknown state, listing the allowed values', () => {
    const [alert] = readFixtureJson<Array<Record<string, unknown>>>(
      'scanners',
      'github-secret-scanning',
      'octocrab-repo-secret-scanning-alerts.json',
    );
    expect(githubFormat.normalize({ ...alert, state: 'dismissed' }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"state" must be one of open, resolved, got "dismissed"'],
    });
  });
});
