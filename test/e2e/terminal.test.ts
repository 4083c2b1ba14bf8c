import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aCliEnvironment } from '@test/support/cli';
import { aGitleaksRecord } from '@test/support/factories';

// What a terminal would act on: C0 (but the line feeds of the CLI's own lines), DEL, C1, bidi controls.
// eslint-disable-next-line no-control-regex -- what the test looks for
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

describe('scanner-controlled text on the terminal', () => {
  const cli = aCliEnvironment({ env: { CLOSELOOP_APPROVERS: 'alice' } });
  // A path that clears the screen, hides an OSC-8 link and reverses the rest of the line, and a
  // description with a one-character C1 CSI (U+009B) and a line feed that would forge a line.
  const hostilePath = 'src/\u001b[2J\u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007/\u202egnp.exe.ts';
  const report = join(cli.home, 'hostile.json');
  writeFileSync(
    report,
    JSON.stringify([
      aGitleaksRecord({
        File: hostilePath,
        Description: 'Generic \u009b31m API Key\n  owner    alice',
        Fingerprint: 'abc123:hostile:generic-api-key:10',
      }),
    ]),
  );
  let id = '';

  beforeAll(() => {
    expect(cli.run('ingest', report).code).toBe(0);
    id = (JSON.parse(cli.run('findings', '--json').stdout) as Array<{ id: string }>)[0]!.id;
    expect(cli.run('tick').code).toBe(0);
    expect(cli.run('sync').code).toBe(0);
  });

  it.each([
    ['findings', () => cli.run('findings')],
    ['show', () => cli.run('show', id)],
    ['tickets', () => cli.run('tickets')],
    ['report ownership (table)', () => cli.run('report', 'ownership', '--format', 'table')],
    ['findings --json', () => cli.run('findings', '--json')],
  ])('%s shows escapes and acts on none', (_name, run) => {
    const out = run();
    expect(out.code).toBe(0);
    expect(out.stdout).not.toMatch(ACTIVE);
    // The title starts with the description (tables cut long cells): its C1 CSI is shown.
    expect(out.stdout).toContain('Generic \\u009b31m API Key');
  });

  it('show writes the path with its escapes visible', () => {
    expect(cli.run('show', id).stdout).toContain(
      'src/\\u001b[2J\\u001b]8;;https://evil.example/\\u0007click\\u001b]8;;\\u0007/\\u202egnp.exe.ts',
    );
  });

  it('show keeps the forged line inside its own line', () => {
    const lines = cli.run('show', id).stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('  owner '))).toHaveLength(1);
    expect(lines[0]).toContain('Generic \\u009b31m API Key\\u000a  owner    alice');
  });

  it('findings --json stays JSON with the very same values', () => {
    const [finding] = JSON.parse(cli.run('findings', '--json').stdout) as Array<{ locations: Array<{ path: string }> }>;
    expect(finding!.locations[0]!.path).toBe(hostilePath);
  });

  it('echoes an --as value as escapes in a refusal', () => {
    const out = cli.run('approve', id, '--as', '\u001b]0;pwned\u0007\u202eecila');
    expect(out.code).toBe(1);
    expect(out.stderr).not.toMatch(ACTIVE);
    expect(out.stderr).toContain('\\u001b]0;pwned\\u0007\\u202eecila');
  });
});
