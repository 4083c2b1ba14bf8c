import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(__dirname, '..', '..', 'bin', 'closeloop.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A user's environment: own CLOSELOOP_HOME and table, on the suite's DynamoDB Local unless embedded. */
export function aCliEnvironment(options: { embedded?: boolean; env?: Record<string, string> } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'closeloop-e2e-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? home,
    CLOSELOOP_HOME: home,
    CLOSELOOP_TABLE: `e2e-${randomUUID()}`,
    ...(options.embedded ? {} : { AWS_ENDPOINT_URL_DYNAMODB: process.env.CLOSELOOP_TEST_DYNAMODB! }),
    ...options.env,
  };
  const runWith = (extra: Record<string, string>, ...args: string[]): CliResult => {
    const out = spawnSync(process.execPath, [BIN, ...args], {
      env: { ...env, ...extra },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: out.status ?? -1, stdout: out.stdout, stderr: out.stderr };
  };
  const run = (...args: string[]): CliResult => runWith({}, ...args);
  return { home, env, run, runWith };
}

/** Runs the CLI without blocking this process, so that HTTP stand-ins in the test can answer it. */
export function runCliAsync(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}
