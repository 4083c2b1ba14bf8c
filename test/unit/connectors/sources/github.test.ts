import { githubFormat, githubAliasKey } from '@connectors/sources/github';
import type { Normalized } from '@connectors/sources/types';
import { SCANNER_FIXTURE_SECRETS, readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (file: string) => readOwnFixtureJson('scanners', 'github', file);
const normalizeAll = (doc: unknown): Normalized[] =>
  githubFormat.records!(doc).map((r) => githubFormat.normalize(r, aContext()));

describe('GitHub secret scanning connector', () => {
  it('normalises the repository alert list, taking the repository from the alert URL', () => {
    const doc = fixture('repo-alerts.json');
    expect(githubFormat.detect(doc)).toBe(true);
    const [first, second] = normalizeAll(doc);
    expect(first).toMatchObject({
      kind: 'observation',
      observation: {
        asset: { type: 'repository', id: 'github.com/acme/payments-api' },
        validity: 'inactive',
        source: { scanner: 'github-secret-scanning', scannerId: 'acme/payments-api#2', state: 'resolved' },
        aliasKey: githubAliasKey('acme/payments-api', 2),
      },
    });
    expect(second).toMatchObject({
      kind: 'observation',
      observation: { secretHash: aContext().hasher.hash('AKIAQCLOSELOOPFAKE01'), severity: 'critical' },
    });
  });

  it('normalises the organisation list with repository objects; a public repository is an exposure in public', () => {
    const results = normalizeAll(fixture('org-alerts.json'));
    expect(results).toHaveLength(2);
    const [billing, docs] = results.map((r) => (r.kind === 'observation' ? r.observation : undefined));
    expect(billing!.asset.id).toBe('github.com/acme/billing');
    expect(docs!.publiclyExposed).toBe(true);
    for (const secret of SCANNER_FIXTURE_SECRETS) expect(JSON.stringify(results)).not.toContain(secret);
  });

  it('reads the secret_scanning_alert webhook (no secret) under the alert alias', () => {
    const doc = fixture('webhook-secret_scanning_alert-resolved.json');
    expect(githubFormat.detect(doc)).toBe(true);
    const [result] = normalizeAll(doc);
    expect(result).toMatchObject({
      kind: 'observation',
      observation: {
        aliasKey: 'github:acme/payments-api#1',
        source: { state: 'resolved', ruleId: 'aws_access_key_id' },
        validity: 'inactive',
      },
    });
    expect((result as { observation: { secretHash?: string } }).observation.secretHash).toBeUndefined();
  });

  it('rejects an alert with an unknown state, listing the allowed values', () => {
    const [alert] = fixture('repo-alerts.json') as Array<Record<string, unknown>>;
    expect(githubFormat.normalize({ ...alert, state: 'dismissed' }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"state" must be one of open, resolved, got "dismissed"'],
    });
  });
});
