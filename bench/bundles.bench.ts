/**
 * Each Lambda bundle (esbuild, minified, the SDK from the runtime): its size and its module init
 * time, against requiring the DynamoDB client alone, measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { f, ROOT, type BenchTopic } from './harness';

export type BundlesResult = Record<
  string,
  { bundleKb: number; moduleInitMs: number; sdkClientRequireMs: number; initVsSdkRequire: number; initError?: string }
>;

export const bundlesBench: BenchTopic<BundlesResult> = {
  name: 'bundles',
  async run(ctx) {
    const dir = ctx.dir;
    const entries = [
      'functions/ingest-s3-report.ts',
      'functions/ingest-securityhub-event.ts',
      'functions/report-api.ts',
      'functions/report-export.ts',
      'functions/secret-rotation.ts',
      'functions/rotation-step.ts',
      'functions/rotation-events.ts',
      'functions/credential-hygiene.ts',
    ];
    const out: BundlesResult = {};
    for (const entry of entries) {
      const outfile = join(dir, 'bundles', `${entry.split('/').pop()!.replace('.ts', '.js')}`);
      await build({
        entryPoints: [join(ROOT, entry)],
        bundle: true,
        minify: true,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        external: ['@aws-sdk/*'],
        outfile,
        tsconfig: join(ROOT, 'tsconfig.json'),
        logLevel: 'silent',
      });
      const init = spawnSync(
        process.execPath,
        [
          '-e',
          `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
        ],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            CLOSELOOP_TABLE: 'bench',
            CLOSELOOP_DEPLOYMENT_KEY_SECRET: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
            CLOSELOOP_EXPORT_BUCKET: 'bench-exports',
            CLOSELOOP_REPORT_EXPORT_FUNCTION: 'bench-export',
            CLOSELOOP_ROTATION_STATE_MACHINE: 'arn:aws:states:us-east-1:1:stateMachine:bench-rotation',
            CLOSELOOP_LIFECYCLE_STATE_MACHINE: 'arn:aws:states:us-east-1:1:stateMachine:bench-lifecycle',
            CLOSELOOP_REPORT_CURSOR_SECRET: 'arn:aws:secretsmanager:us-east-1:1:secret:cursor',
            AWS_REGION: 'us-east-1',
            NODE_PATH: join(ROOT, 'node_modules'),
          },
        },
      );
      const baseline = spawnSync(
        process.execPath,
        [
          '-e',
          `const t=process.hrtime.bigint();require('@aws-sdk/client-dynamodb');process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
        ],
        { encoding: 'utf8', cwd: ROOT },
      );
      out[entry] = {
        bundleKb: statSync(outfile).size / 1024,
        moduleInitMs: Number(init.stdout),
        sdkClientRequireMs: Number(baseline.stdout),
        initVsSdkRequire: Number(init.stdout) / Number(baseline.stdout),
        // The error's own line (the first lines are the bundle's source position).
        initError:
          init.status === 0
            ? undefined
            : (init.stderr.split('\n').find((l) => /Error\b/.test(l)) ?? init.stderr.split('\n')[0]),
      };
    }
    return out;
  },
  print: (bundles) =>
    Object.entries(bundles).map(([entry, b]) =>
      b.initError
        ? `bundle ${entry}: ${f(b.bundleKb, 0)} KB minified, module init FAILED: ${b.initError}`
        : `bundle ${entry}: ${f(b.bundleKb, 0)} KB minified, module init ${f(b.moduleInitMs, 0)} ms (${f(b.initVsSdkRequire)}× requiring the DynamoDB client alone)`,
    ),
};
