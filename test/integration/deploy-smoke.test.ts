import { cpSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startHttpServer, sendJson, type RecordedRequest } from '@test/support/http-server';
import {
  deployedFunctions,
  initFunction,
  lambdaRuntimeModules,
  placeholderEnvironment,
  type DeployedFunction,
  type InitResult,
} from '@test/support/lambda-smoke';
import { ROOT, synthesize } from '@test/support/synth';

// The deploy smoke test: the stack as `cdk deploy -c config=samples/closeloop.json` builds it in
// eu-west-1 (one synth, bundled once by esbuild), then every function started the way Lambda starts
// it. A missing variable, a bundling mistake or a renamed handler fails here, not at a user's first
// invocation.
const PLACE = { account: '123456789012', region: 'eu-west-1', partition: 'aws' };
const { stack, assembly, template } = synthesize({
  env: { account: PLACE.account, region: PLACE.region },
  context: { config: join(ROOT, 'samples', 'closeloop.json') },
  bundle: true,
});
const functions = deployedFunctions(template, assembly, stack.stackName);
const nodeFunctions = functions.filter((f) => f.runtime.startsWith('nodejs'));
const runtimeModules = lambdaRuntimeModules();

let aws: Awaited<ReturnType<typeof startHttpServer>>;
const initResults = new Map<string, { result: InitResult; requests: RecordedRequest[] }>();

const start = (fn: DeployedFunction, change: { environment?: Record<string, string>; handler?: string } = {}) =>
  initFunction({
    assetDir: fn.assetDir!,
    handler: change.handler ?? fn.handler,
    environment: change.environment ?? placeholderEnvironment(fn, template, PLACE),
    region: PLACE.region,
    awsEndpoint: aws.base,
    runtimeModules,
  });

beforeAll(async () => {
  // Every AWS API the SDK clients would call: a local endpoint that records and refuses.
  aws = await startHttpServer((_req, res) =>
    sendJson(res, 400, { __type: 'SmokeTest', message: 'not in a smoke test' }),
  );
  // Two at a time: the machine has two cores.
  const queue = [...nodeFunctions];
  await Promise.all(
    [0, 1].map(async () => {
      for (let fn = queue.shift(); fn; fn = queue.shift()) {
        const before = aws.requests.length;
        const result = await start(fn);
        initResults.set(fn.logicalId, { result, requests: aws.requests.slice(before) });
      }
    }),
  );
}, 120_000);

afterAll(async () => {
  await aws?.close();
  // Each bundle's size and cold-start module load, for the record (DESIGN: fast cold starts).
  const rows = nodeFunctions.map((fn) => {
    const { result } = initResults.get(fn.logicalId) ?? {};
    return {
      function: fn.logicalId,
      bundleKiB: Math.round(statSync(join(fn.assetDir!, 'index.js')).size / 1024),
      initMs: result?.ok ? Math.round(result.initMs) : null,
    };
  });
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  writeFileSync(join(ROOT, 'test-artifacts', 'lambda-init.json'), `${JSON.stringify(rows, null, 2)}\n`);
});

describe('the deployed functions', () => {
  it('run on Node.js 24 here, as on Lambda', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
    for (const fn of nodeFunctions) expect(fn.runtime).toBe('nodejs24.x');
  });

  it('are all closeloop functions from bundled assets, besides CDK’s own inline bucket-notification handler', () => {
    expect(nodeFunctions.length).toBeGreaterThanOrEqual(18);
    // The sample deploy file's `sources`: both scheduled pulls, the GitHub webhook and the write-back.
    const descriptions = nodeFunctions.map(
      (f) => (template.Resources[f.logicalId]!.Properties as { Description?: string }).Description,
    );
    expect(descriptions).toEqual(
      expect.arrayContaining([
        'closeloop: pull GitHub secret scanning alerts',
        'closeloop: pull GitGuardian secret incidents',
        'closeloop: GitHub secret scanning webhook',
        'closeloop: write outcomes back to GitHub, GitGuardian and Security Hub',
      ]),
    );
    for (const fn of nodeFunctions) {
      expect(fn.assetDir).toBeDefined();
      // Outside the checkout, so that nothing resolves from the project's node_modules by accident.
      expect(relative(ROOT, fn.assetDir!).startsWith('..')).toBe(true);
    }
    const others = functions.filter((f) => !f.runtime.startsWith('nodejs'));
    expect(others.map((f) => f.logicalId)).toEqual([expect.stringMatching(/^BucketNotificationsHandler/)]);
    for (const fn of others) {
      const [module, name] = fn.handler.split('.');
      expect(module).toBe('index'); // inline code is index.py
      expect(fn.inlineCode).toMatch(new RegExp(`^def ${name}\\(event\\b`, 'm'));
    }
  });

  it('each get an environment within Lambda’s 4 KB', () => {
    for (const fn of nodeFunctions) {
      const env = placeholderEnvironment(fn, template, PLACE);
      const size = Object.entries(env).reduce((n, [k, v]) => n + k.length + v.length, 0);
      expect({ fn: fn.logicalId, fits: size <= 4096 }).toEqual({ fn: fn.logicalId, fits: true });
    }
  });

  it.each(nodeFunctions.map((f) => [f.logicalId, f] as const))(
    '%s initialises with the environment the template gives it, and exports the handler it names',
    (logicalId) => {
      const { result, requests } = initResults.get(logicalId)!;
      expect(result).toMatchObject({ ok: true });
      // Module scope builds clients and reads configuration; it calls no AWS API (Lambda may
      // pre-initialise an environment long before its first invocation).
      expect(requests.map((r) => `${r.method} ${r.headers['x-amz-target'] ?? r.url}`)).toEqual([]);
    },
  );
});

describe('the smoke test catches', () => {
  const byDescription = (suffix: string) =>
    nodeFunctions.find((f) => {
      const resource = template.Resources[f.logicalId]!;
      return (resource.Properties as { Description?: string }).Description === `closeloop: ${suffix}`;
    })!;

  it('a variable the template does not give a function', async () => {
    const starter = byDescription('lifecycle sweep: start what ingest did not, fire due escalations');
    const { CLOSELOOP_LIFECYCLE_STATE_MACHINE: _dropped, ...environment } = placeholderEnvironment(
      starter,
      template,
      PLACE,
    );
    expect(await start(starter, { environment })).toEqual({
      ok: false,
      error: 'init: CLOSELOOP_LIFECYCLE_STATE_MACHINE is required',
    });
    const digests = byDescription('audit trail digest writer');
    const { CLOSELOOP_DIGEST_KEY: _key, ...withoutKey } = placeholderEnvironment(digests, template, PLACE);
    expect(await start(digests, { environment: withoutKey })).toEqual({
      ok: false,
      error: 'init: CLOSELOOP_DIGEST_KEY is required',
    });
    const sync = byDescription('push ticket work to Jira, ServiceNow and the CMDB');
    const { CLOSELOOP_TICKETING_SECRET: _secret, ...withoutSecret } = placeholderEnvironment(sync, template, PLACE);
    expect(await start(sync, { environment: withoutSecret })).toEqual({
      ok: false,
      error: 'init: CLOSELOOP_TICKETING_SECRET is required',
    });
    const notifier = byDescription('tell people where they read: digests to Slack, Teams and email');
    const { CLOSELOOP_NOTIFY_SECRET: _webhooks, ...withoutWebhooks } = placeholderEnvironment(
      notifier,
      template,
      PLACE,
    );
    expect(await start(notifier, { environment: withoutWebhooks })).toEqual({
      ok: false,
      error: 'init: CLOSELOOP_NOTIFY_SECRET is required',
    });
  });

  it('a scanner pull without what it pulls, or a write-back naming a scanner it does not know', async () => {
    const pull = byDescription('pull GitHub secret scanning alerts');
    const { CLOSELOOP_GITHUB_SCOPES: _scopes, ...withoutScopes } = placeholderEnvironment(pull, template, PLACE);
    expect(await start(pull, { environment: withoutScopes })).toEqual({
      ok: false,
      error: 'init: CLOSELOOP_GITHUB_SCOPES is required',
    });
    const writeback = byDescription('write outcomes back to GitHub, GitGuardian and Security Hub');
    const environment = { ...placeholderEnvironment(writeback, template, PLACE), CLOSELOOP_SOURCES: 'github,gitlab' };
    expect(await start(writeback, { environment })).toEqual({
      ok: false,
      error: 'init: CLOSELOOP_SOURCES: unknown source "gitlab" (github, gitguardian)',
    });
  });

  it('a policy the functions cannot read', async () => {
    const step = byDescription('finding lifecycle step');
    const environment = {
      ...placeholderEnvironment(step, template, PLACE),
      CLOSELOOP_POLICY: '{"slaDays":{"critical":"two"}}',
    };
    expect(await start(step, { environment })).toEqual({
      ok: false,
      error: 'init: CLOSELOOP_POLICY: "slaDays.critical" must be a number, got "two"',
    });
  });

  it('a handler the bundle does not export (a renamed export)', async () => {
    const fn = byDescription('lifecycle sweep: start what ingest did not, fire due escalations');
    expect(await start(fn, { handler: 'index.main' })).toEqual({
      ok: false,
      error: 'handler: index.main is not a function (the module exports handler)',
    });
    expect(await start(fn, { handler: 'app.handler' })).toEqual({
      ok: false,
      error: 'handler: app.handler: no app.js|.cjs|.mjs in the asset',
    });
  });

  it('a bundle that needs a package the Lambda runtime does not have (a module left external)', async () => {
    const fn = byDescription('ingest scanner reports uploaded to S3');
    const broken = mkdtempSync(join(tmpdir(), 'closeloop-broken-asset-'));
    cpSync(fn.assetDir!, broken, { recursive: true });
    // What esbuild writes when a dependency is marked external: a require the runtime must satisfy.
    const bundle = join(broken, 'index.js');
    writeFileSync(bundle, `require("@aws-lambda-powertools/logger");\n${readFileSync(bundle, 'utf8')}`);
    const result = await initFunction({
      assetDir: broken,
      handler: fn.handler,
      environment: placeholderEnvironment(fn, template, PLACE),
      region: PLACE.region,
      awsEndpoint: aws.base,
      runtimeModules,
    });
    expect(result).toEqual({ ok: false, error: "init: Cannot find module '@aws-lambda-powertools/logger'" });
  });
});
