import { ownFixturePath } from '@test/support/fixtures';
import { aCliEnvironment } from '@test/support/cli';

const fixture = (...parts: string[]) => ownFixturePath('scanners', ...parts);

describe('closeloop ingest of the scanner formats', () => {
  it('a CodeQL SARIF exits 0 with nothing created: its results are not secrets', () => {
    const cli = aCliEnvironment();
    const out = cli.run('ingest', fixture('sarif', 'codeql.sarif'), '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ received: 4, created: 0, skipped: 4, rejected: 0 });
  });

  it('a bare [] is refused with exit 2 and the advice to pass --format; with --format it is a clean scan', () => {
    const cli = aCliEnvironment();
    const auto = cli.run('ingest', fixture('gitleaks', 'v8-empty.json'));
    expect(auto.code).toBe(2);
    expect(auto.stderr).toBe(
      `closeloop: ${fixture('gitleaks', 'v8-empty.json')}: an empty list ([]) does not say which scanner wrote it; if it is a clean scan (gitleaks 8, GitHub, Prowler OCSF and Nosey Parker write []), pass --format to ingest it\n`,
    );
    const named = cli.run(
      'ingest',
      fixture('gitleaks', 'v8-empty.json'),
      '--format',
      'gitleaks',
      '--asset',
      'github.com/acme/api',
      '--json',
    );
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ received: 0, created: 0, rejected: 0 });
  });

  it('takes --format prowler for Prowler JSON-OCSF', () => {
    const cli = aCliEnvironment();
    const out = cli.run('ingest', fixture('prowler', 'v5-ocsf.json'), '--format', 'prowler', '--json');
    expect(out.code).toBe(0);
    // Three checks skipped by the parser; the muted root-key check is resolved at source and was never tracked.
    expect(JSON.parse(out.stdout)).toMatchObject({ received: 10, created: 6, skipped: 4, rejected: 0 });
  });
});
