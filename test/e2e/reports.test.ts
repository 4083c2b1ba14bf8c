import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { aCliEnvironment } from '@test/support/cli';
import { chromium } from '@test/support/chromium';

const SAMPLES = resolve(__dirname, '..', '..', 'samples');
const ARTIFACTS = resolve(__dirname, '..', '..', 'test-artifacts', 'reports');

describe('closeloop report (the CLI on the samples, at a fixed hub clock)', () => {
  const cli = aCliEnvironment({
    env: { CLOSELOOP_POLICY: join(SAMPLES, 'policy.json'), CLOSELOOP_NOW: '2026-11-22T10:00:00.000Z' },
  });
  beforeAll(() => {
    expect(
      cli.run(
        'ingest',
        join(SAMPLES, 'gitleaks-payments-api.json'),
        join(SAMPLES, 'trufflehog-payments-api.jsonl'),
        join(SAMPLES, 'github-secret-scanning-acme.json'),
      ).code,
    ).toBe(0);
    expect(cli.run('tick').code).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  it('prints the SLA report as a table at the hub clock, and the ownership report as CSV to a file', () => {
    const sla = cli.run('report', 'sla');
    expect(sla).toMatchObject({ code: 0, stderr: '' });
    expect(sla.stdout).toMatch(/^SLA — at 2026-11-22T10:00:00.000Z\n/);
    expect(sla.stdout).toMatch(/open findings\s+5\n/);
    expect(sla.stdout).toMatch(/team-payments\s+critical\s+1\s+0\s+1/);
    const out = join(cli.home, 'ownership.csv');
    expect(cli.run('report', 'ownership', '--format', 'csv', '--out', out)).toMatchObject({
      code: 0,
      stdout: `Ownership: written to ${out} (csv)\n`,
    });
    expect(readFileSync(out, 'utf8').split('\r\n')[0]).toBe(
      'owner,open,from CMDB,from tags,from mapping,unowned queue',
    );
  });

  it('writes one self-contained HTML file per report that opens in headless Chromium (screenshots kept in test-artifacts/reports)', () => {
    const browser = chromium();
    for (const kind of ['sla', 'ownership', 'exceptions', 'rotation', 'standards', 'audit']) {
      const file = join(cli.home, `${kind}.html`);
      expect(cli.run('report', kind, '--format', 'html', '--out', file).code).toBe(0);
      const dom = browser.dumpDom(file);
      expect(dom).toContain('<h1>');
      expect(dom).toMatch(/class="card"/);
      const png = join(ARTIFACTS, `${kind}.png`);
      browser.screenshot(file, png);
      expect(readFileSync(png).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a'); // a PNG
      expect(statSync(png).size).toBeGreaterThan(10_000);
    }
  });

  it('the audit report verifies the chains it shows; bad arguments are one line and exit 2', () => {
    const audit = cli.run('report', 'audit', '--since', '2026-11-01', '--format', 'json');
    expect(audit.code).toBe(0);
    const report = JSON.parse(audit.stdout) as {
      verification: { ok: boolean; chains: number };
      sections: Array<{ rows: unknown[][] }>;
    };
    expect(report.verification).toMatchObject({ ok: true, chains: 5 });
    expect(report.sections[0]!.rows.length).toBeGreaterThan(10);
    expect(cli.run('report', 'nope')).toMatchObject({
      code: 2,
      stderr:
        "error: command-argument value 'nope' is invalid for argument 'kind'. Allowed choices are sla, ownership, exceptions, rotation, standards, audit.\n",
    });
    expect(cli.run('report', 'sla', '--since', 'yesterday')).toMatchObject({
      code: 2,
      stderr:
        "error: option '--since <date>' argument 'yesterday' is invalid. must be an ISO-8601 date, e.g. 2026-11-01\n",
    });
    expect(cli.run('report', 'audit', '--finding', 'NHI-0000000000000000')).toMatchObject({
      code: 2,
      stderr: 'closeloop: no finding NHI-0000000000000000\n',
    });
  });
});
