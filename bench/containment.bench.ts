/**
 * A leaked, verified AWS key contained: on the local runtime with AWS endpoints configured (the
 * stateful Secrets Manager / IAM / STS fakes stand in for them), from `closeloop ingest` of a
 * TruffleHog report holding the verified key to the key contained (deactivated, or its user
 * quarantined with AWSCompromisedKeyQuarantineV3), for each containment action of the policy:
 * the time, and the state transitions of the lifecycle and rotation executions up to the
 * containment. The baseline in the same run: the `closeloop ingest` of the same report without AWS
 * endpoints (the dry run), so the ratio is what containment adds to an ingest.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalLifecycleRunner, type LocalRun } from '../local/lifecycle-runner';
import { LocalRotationRunner, type LocalRotationRun } from '../local/rotation-runner';
import { aRotationWorld } from '../test/support/rotation';
import { f, time, type BenchTopic } from './harness';
import { runCli } from './pipeline.bench';

interface Containment {
  action: 'deactivate' | 'quarantine';
  /** From the start of `closeloop ingest` to the IAM call that contained the key. */
  containedAfterMs: number;
  commandMs: number;
  /** What the first IAM call did: deactivated the key, or quarantined its user. */
  containedBy: 'key deactivated' | 'user quarantined';
  /** The leaked key's state once the command returned (the rotation replaced it and deactivated it). */
  keyStatus: string;
  /** Whether the quarantine policy is still attached at the end (lifted once the key is inactive). */
  quarantined: boolean;
  transitionsToContainment: number;
  pathToContainment: string;
  lifecycleTransitions: number;
  rotationTransitions: number;
}

export interface ContainmentResult {
  runs: Containment[];
  dryRunIngestMs: number;
}

/** The lifecycle state the remediation starts from, and the rotation state that contains the key. */
const REMEDIATE = 'Remediate';
const CONTAINING = new Set(['ContainExposedKey', 'ContainLeakedKey']);

/** Records the path of every local lifecycle and rotation execution while `fn` runs (bench instrumentation). */
export async function recordingPaths<T>(fn: () => Promise<T>) {
  const lifecycles: string[][] = [];
  const rotations: string[][] = [];
  // Every lifecycle execution (a start, one committed with its finding's ingest, a resume) runs
  // through the runner's one `execute`; recording there misses none and counts none twice.
  const runner = LocalLifecycleRunner.prototype as unknown as {
    execute: (...args: unknown[]) => Promise<LocalRun | undefined>;
  };
  const execute = runner.execute;
  const rot = LocalRotationRunner.prototype.run;
  runner.execute = async function (this: unknown, ...args: unknown[]) {
    const run = await execute.apply(this, args);
    if (run) lifecycles.push(run.path);
    return run;
  };
  LocalRotationRunner.prototype.run = async function (this: LocalRotationRunner, ...args) {
    const run: LocalRotationRun = await rot.apply(this, args);
    rotations.push(run.path);
    return run;
  };
  try {
    return { result: await fn(), lifecycles, rotations };
  } finally {
    runner.execute = execute;
    LocalRotationRunner.prototype.run = rot;
  }
}

/** A TruffleHog git detection of `accessKeyId`, verified live by TruffleHog. */
function verifiedAwsKeyReport(accessKeyId: string, userName: string): string {
  return `${JSON.stringify({
    SourceMetadata: {
      Data: {
        Git: {
          commit: '1e4b7d0a3c6f9e2b5d8a1c4f7b0e3a6d9c2f5b8e',
          file: 'ci/credentials',
          repository: 'https://github.com/acme/bench-leak.git',
          timestamp: '2026-11-01 10:00:00 +0000',
          line: 4,
        },
      },
    },
    SourceID: 1,
    SourceType: 16,
    SourceName: 'trufflehog - git',
    DetectorType: 2,
    DetectorName: 'AWS',
    DecoderName: 'PLAIN',
    Verified: true,
    Raw: accessKeyId,
    Redacted: '',
    ExtraData: { account: '123456789012', arn: `arn:aws:iam::123456789012:user/${userName}` },
    StructuredData: null,
  })}\n`;
}

async function containOnce(
  ctx: Parameters<BenchTopic['run']>[0],
  action: Containment['action'],
  endpoint: string,
): Promise<Containment> {
  const world = aRotationWorld();
  try {
    const userName = `bench-leak-${action}`;
    const { key } = world.managedIamUser(userName);
    const file = join(ctx.dir, `containment-${action}.jsonl`);
    writeFileSync(file, verifiedAwsKeyReport(key.AccessKeyId, userName));
    const home = mkdtempSync(join(ctx.dir, `containment-${action}-`));
    const policyFile = join(home, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ rotation: { containment: action } }));
    const env = {
      CLOSELOOP_HOME: home,
      CLOSELOOP_TABLE: `bench-containment-${action}`,
      CLOSELOOP_POLICY: policyFile,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      // Configured AWS endpoints: the local hub calls AWS (here the stateful fakes intercept every call).
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9',
      AWS_REGION: 'eu-west-1',
    };
    const t0 = Date.now();
    let output: string[] = [];
    const {
      result: commandMs,
      lifecycles,
      rotations,
    } = await recordingPaths(() => time(async () => (output = await runCli(['ingest', file], env))));
    if (process.env.BENCH_DEBUG) {
      console.log(output.join('\n'));
      const list = JSON.parse((await runCli(['findings', '--json'], env)).join('')) as Array<{ id: string }>;
      for (const x of list) console.log((await runCli(['show', x.id], env)).join('\n'));
    }
    const first = world.iam.changes.find((c) => c.change.startsWith(`${userName} `));
    if (!first)
      throw new Error(
        `containment (${action}): the leaked key was never contained (lifecycle ${lifecycles[0]?.join(' > ')}; rotation ${rotations[0]?.join(' > ')})`,
      );
    const lifecycle = lifecycles[0] ?? [];
    const rotation = rotations[0] ?? [];
    const toRemediate = lifecycle.slice(0, lifecycle.indexOf(REMEDIATE) + 1);
    const toContain = rotation.slice(0, rotation.findIndex((s) => CONTAINING.has(s)) + 1);
    const status = world.iam.keysOf(userName).find((k) => k.AccessKeyId === key.AccessKeyId)?.Status ?? 'deleted';
    return {
      action,
      containedAfterMs: first.at.getTime() - t0,
      containedBy: first.change.includes(' attached ') ? 'user quarantined' : 'key deactivated',
      commandMs,
      keyStatus: status,
      quarantined: [...(world.iam.attachedPolicies.get(userName) ?? [])].some((p) =>
        p.endsWith('AWSCompromisedKeyQuarantineV3'),
      ),
      transitionsToContainment: toRemediate.length + toContain.length,
      pathToContainment: [...toRemediate, '⇒', ...toContain].join(' > '),
      lifecycleTransitions: lifecycle.length,
      rotationTransitions: rotation.length,
    };
  } finally {
    world.restore();
  }
}

export const containmentBench: BenchTopic<ContainmentResult> = {
  name: 'containment',
  async run(ctx) {
    const { endpoint } = await ctx.dynamo();
    // The dry run first: it also warms the CLI's modules, so both containments are measured warm.
    const dryFile = join(ctx.dir, 'containment-dry.jsonl');
    writeFileSync(dryFile, verifiedAwsKeyReport('AKIACLOSELOOPBENCH01', 'bench-dry'));
    const dryRunIngestMs = await time(() =>
      runCli(['ingest', dryFile], {
        CLOSELOOP_HOME: mkdtempSync(join(ctx.dir, 'containment-dry-')),
        CLOSELOOP_TABLE: 'bench-containment-dry',
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      }),
    );
    const runs = [await containOnce(ctx, 'deactivate', endpoint), await containOnce(ctx, 'quarantine', endpoint)];
    return { runs, dryRunIngestMs };
  },
  print: (r) => [
    ...r.runs.map(
      (c) =>
        `containment (${c.action}): verified AWS key contained ${f(c.containedAfterMs, 0)} ms after closeloop ingest started (${c.containedBy}; command ${f(c.commandMs, 0)} ms, dry-run ingest of the same report ${f(r.dryRunIngestMs, 0)} ms); at the end the key is ${c.keyStatus}${c.quarantined ? ', its user still quarantined' : ', no quarantine left'}; ${c.transitionsToContainment} state transitions to containment: ${c.pathToContainment} (whole lifecycle ${c.lifecycleTransitions}, rotation ${c.rotationTransitions})`,
    ),
  ],
};
