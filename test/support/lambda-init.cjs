// Loads one bundled Lambda function the way the Node.js runtime does at a cold start: the module
// named by the template's Handler ("index.handler" → ./index.js, export "handler"), in this process's
// environment (the one the template gives the function). Writes what happened to the file named by
// argv[3] as JSON: { ok, initMs, exports } or { ok: false, error }.
//   node lambda-init.cjs <asset dir> <result file>   (Handler in _HANDLER, as Lambda sets it)
const { existsSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { setTimeout } = require('node:timers');

const [dir, resultFile] = process.argv.slice(2);
const handler = process.env._HANDLER ?? '';
let done = false;
const finish = (result) => {
  if (done) return;
  done = true;
  writeFileSync(resultFile, JSON.stringify(result));
  // Lambda would now freeze the process; nothing started at init is waited for.
  process.exit(0);
};
const fail = (stage, err) =>
  finish({ ok: false, error: `${stage}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
// Initialisation that fails later (a rejected promise started at module scope) fails the cold start too.
process.on('unhandledRejection', (err) => fail('init', err));
process.on('uncaughtException', (err) => fail('init', err));

const dot = handler.indexOf('.');
const modulePath = dot > 0 ? handler.slice(0, dot) : '';
const exportPath = dot > 0 ? handler.slice(dot + 1).split('.') : [];
const file = ['.js', '.cjs', '.mjs'].map((ext) => join(dir, modulePath + ext)).find((f) => existsSync(f));
if (!file || exportPath.length === 0) {
  fail('handler', `${handler}: no ${modulePath || '<module>'}.js|.cjs|.mjs in the asset`);
} else {
  const started = performance.now();
  let loaded;
  try {
    loaded = require(file);
  } catch (err) {
    fail('init', err);
  }
  const initMs = performance.now() - started;
  if (loaded !== undefined) {
    const fn = exportPath.reduce((value, key) => (value == null ? undefined : value[key]), loaded);
    // Give work started during initialisation a moment to fail before calling it a success.
    setTimeout(() => {
      if (typeof fn !== 'function')
        fail(
          'handler',
          `${handler} is not a function (the module exports ${Object.keys(loaded).join(', ') || 'nothing'})`,
        );
      else finish({ ok: true, initMs, exports: Object.keys(loaded) });
    }, 250);
  }
}
