import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aCliEnvironment } from '@test/support/cli';

describe('closeloop ingest: the wrong exits and messages of issue 20', () => {
  it('refuses a directory with exit 2 and one line saying it is a directory', () => {
    const cli = aCliEnvironment();
    const folder = mkdtempSync(join(tmpdir(), 'closeloop-reports-'));
    const out = cli.run('ingest', folder);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`closeloop: ${folder}: is a directory, not a report file\n`);
  });

  it('exits 0 when many identical bad records were only quarantined', () => {
    const cli = aCliEnvironment();
    const bad = { RuleID: 'generic-api-key', StartLine: 'ten', File: 'a.env', Secret: 'closeloopFakeBadRecord000001' };
    const file = join(mkdtempSync(join(tmpdir(), 'closeloop-bad-')), 'bad.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 40 }, () => bad)));
    const out = cli.run('ingest', file, '--format', 'gitleaks', '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ received: 40, rejected: 40 });
    expect(out.stdout + out.stderr).not.toContain('closeloopFakeBadRecord000001');
  });

  describe('a DynamoDB that accepts connections and never answers', () => {
    let server: Server;
    const sockets: Socket[] = [];
    let endpoint: string;
    beforeAll(async () => {
      server = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('fails within its request deadlines, saying it is safe to re-run', () => {
      const cli = aCliEnvironment({
        env: { AWS_ENDPOINT_URL_DYNAMODB: endpoint, CLOSELOOP_DYNAMODB_TIMEOUT_MS: '300' },
      });
      const started = Date.now();
      const out = cli.run('findings');
      expect(out.code).toBe(1);
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(out.stderr).toMatch(
        /^closeloop: the store failed \(TimeoutError: .+\); every write is idempotent, so it is safe to re-run the command\n$/,
      );
    });
  });
});
