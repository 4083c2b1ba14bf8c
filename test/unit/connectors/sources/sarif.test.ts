import { isSecretScanner, sarifFormat } from '@connectors/sources/sarif';
import { normalizeGitleaks } from '@connectors/sources/gitleaks';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { SCANNER_FIXTURE_SECRETS, readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const sarif = (file: string) => readOwnFixtureJson('scanners', 'sarif', file);
const normalizeAll = (doc: unknown): Normalized[] =>
  sarifFormat.records!(doc).map((r) => sarifFormat.normalize(r, aContext()));
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));
const kinds = (results: Normalized[]) => results.map((r) => r.kind);

/** A one-result SARIF log of a tool, with a rule. */
const oneResult = (tool: string, rule: Record<string, unknown>, result: Record<string, unknown> = {}) => ({
  version: '2.1.0',
  runs: [
    {
      tool: { driver: { name: tool, rules: [rule] } },
      results: [
        {
          ruleId: rule.id,
          message: { text: 'found' },
          locations: [{ physicalLocation: { artifactLocation: { uri: 'src/app.py' }, region: { startLine: 3 } } }],
          ...result,
        },
      ],
    },
  ],
});

describe('SARIF connector', () => {
  it('takes the gitleaks 8 secret from the snippet and hashes it like the JSON report does', () => {
    const [aws] = observations(normalizeAll(sarif('gitleaks-8.sarif')));
    const [json] = readOwnFixtureJson<unknown[]>('scanners', 'gitleaks', 'v8-git.json');
    const fromJson = normalizeGitleaks(json, aContext());
    expect(aws!.source.scanner).toBe('gitleaks');
    expect(aws!.fingerprint).toBe(fromJson.kind === 'observation' && fromJson.observation.fingerprint);
    expect(aws!.locations[0]).toMatchObject({ path: 'deploy/terraform/keys.tf', line: 4 });
  });

  it('gives redacted gitleaks 8 snippets a location identity each', () => {
    const redacted = observations(normalizeAll(sarif('gitleaks-8-redact.sarif')));
    expect(redacted.map((o) => o.secretHash)).toEqual([undefined, undefined]);
    expect(new Set(redacted.map((o) => o.fingerprint)).size).toBe(2);
  });

  it('takes the gitleaks 7 secret from properties.offender and the rule from the message; armour only is a location', () => {
    const [aws, key] = observations(normalizeAll(sarif('gitleaks-7.sarif')));
    expect(aws!.source.ruleId).toBe('AWS Access Key');
    expect(aws!.secretHash).toBe(aContext().hasher.hash('AKIAQCLOSELOOPFAKE01'));
    expect(key!.secretHash).toBeUndefined();
    expect(key!.fingerprint).toMatch(/^at:/);
  });

  it('uses a location identity where the scanner masks the secret (secretlint), and skips a suppressed result', () => {
    const results = normalizeAll(sarif('secretlint.sarif'));
    expect(kinds(results)).toEqual(['observation', 'observation', 'skipped']);
    for (const o of observations(results)) {
      expect(o.secretHash).toBeUndefined();
      expect(o.fingerprint).toMatch(/^at:/);
      expect(o.source.scanner).toBe('secretlint');
    }
  });

  it('skips every result of CodeQL, a code scanner: nothing becomes a leaked secret', () => {
    const results = normalizeAll(sarif('codeql.sarif'));
    expect(results).toHaveLength(4);
    expect(results).toEqual(results.map(() => ({ kind: 'skipped', reason: 'not from a secret detector (CodeQL)' })));
  });

  it('skips results without locations of a non-secret tool (dependency-check) rather than rejecting them', () => {
    expect(kinds(normalizeAll(sarif('dependency-check.sarif')))).toEqual(['skipped', 'skipped']);
  });

  it("keeps only the secret of Trivy's mixed report: its rule is tagged secret", () => {
    const results = normalizeAll(sarif('trivy.sarif'));
    expect(kinds(results)).toEqual(['skipped', 'skipped', 'observation']);
    const [secret] = observations(results);
    expect(secret).toMatchObject({ detector: 'github-pat', nhiType: 'oauth_token', source: { scanner: 'trivy' } });
    expect(secret!.secretHash).toBeUndefined();
  });

  it('reads ggshield SARIF as a secret scanner with a masked secret', () => {
    const [o] = observations(normalizeAll(sarif('ggshield.sarif')));
    expect(o!.source.scanner).toBe('ggshield');
    expect(o!.secretHash).toBeUndefined();
  });

  it.each([
    ['a rule id that says credentials', { id: 'js/hardcoded-credentials' }],
    ['a rule tag that says secret', { id: 'R12', properties: { tags: ['security', 'secret'] } }],
    ['the hard-coded credentials CWE', { id: 'B105', properties: { tags: ['external/cwe/cwe-798'] } }],
    ['a rule name that says secret', { id: 'jwt-1', name: 'hardcoded-jwt-secret' }],
  ])('counts a non-secret tool result when %s', (_, rule) => {
    const [result] = normalizeAll(oneResult('Semgrep OSS', rule));
    expect(result!.kind).toBe('observation');
  });

  it.each([
    [
      'a prose description that mentions secrets',
      { id: 'py/weak-hash', properties: { description: 'do not log secrets' } },
    ],
    ['a password-hashing rule', { id: 'js/insufficient-password-hash' }],
  ])('does not count %s', (_, rule) => {
    expect(normalizeAll(oneResult('CodeQL', rule))).toEqual([
      { kind: 'skipped', reason: 'not from a secret detector (CodeQL)' },
    ]);
  });

  it('knows secret scanners by their driver name, whatever the spelling', () => {
    for (const name of [
      'gitleaks',
      'Gitleaks',
      'secretlint',
      'ggshield',
      'trufflehog',
      'detect-secrets',
      'Nosey Parker',
    ])
      expect(isSecretScanner(name)).toBe(true);
    for (const name of ['CodeQL', 'SpotBugs', 'dependency-check', 'Semgrep OSS', 'Trivy'])
      expect(isSecretScanner(name)).toBe(false);
  });

  it('names the scanner of an empty run of a secret scanner, and none for a code scanner', () => {
    expect(sarifFormat.records!(sarif('gitleaks-8-empty.sarif'))).toEqual([]);
    expect(sarifFormat.scanner!(sarif('gitleaks-8-empty.sarif'))).toBe('gitleaks');
    expect(sarifFormat.scanner!(sarif('codeql.sarif'))).toBeUndefined();
  });

  it('carries no snippet, offender or message text into observations', () => {
    const all = ['gitleaks-8.sarif', 'gitleaks-7.sarif', 'secretlint.sarif', 'trivy.sarif', 'ggshield.sarif'].flatMap(
      (f) => observations(normalizeAll(sarif(f))),
    );
    const serialised = JSON.stringify(all);
    for (const secret of SCANNER_FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
    expect(serialised).not.toContain('found AWS Access Key ID');
  });

  it('redacts a credential quoted in the message of a result that names no rule (the message then names the rule)', () => {
    const token = 'ghp_' + 'Qw7'.repeat(12);
    const doc = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'gitleaks', semanticVersion: 'v7.6.1' } },
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
    const [o] = observations(normalizeAll(doc));
    expect(o!.source.ruleId).toBe('token [REDACTED] found');
    expect(o!.title).toBe('token [REDACTED] found leaked in ci/deploy.sh');
    expect(JSON.stringify(o)).not.toContain(token);
  });

  it('rejects a result of a secret scanner without locations, naming the field', () => {
    const doc = {
      version: '2.1.0',
      runs: [
        { tool: { driver: { name: 'gitleaks' } }, results: [{ ruleId: 'r', message: { text: 't' }, locations: [] }] },
      ],
    };
    expect(normalizeAll(doc)).toEqual([{ kind: 'rejected', problems: ['"locations" must have at least 1 item(s)'] }]);
  });
});
