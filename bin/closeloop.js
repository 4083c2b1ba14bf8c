#!/usr/bin/env node
// The `closeloop` CLI. Sources are TypeScript; tsx compiles them on the fly (cached),
// so a fresh clone needs no build step.
const { register } = require('tsx/cjs/api');
register({ tsconfig: require('node:path').join(__dirname, '..', 'tsconfig.json') });
require('../local/cli/main.ts')
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`closeloop: ${err && err.message ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
