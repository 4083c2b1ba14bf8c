#!/usr/bin/env node
// The `closeloop` CLI. Sources are TypeScript; tsx compiles them on the fly (cached),
// so a fresh clone needs no build step.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  // Older Node lacks what the lifecycle runner uses (Promise.withResolvers): refuse clearly instead of failing every lifecycle.
  process.stderr.write(
    `closeloop: needs Node.js 22 or later, this is ${process.version}; run it through npm (npm run closeloop -- …, npm start), which uses the pinned Node 24, or install Node 24\n`,
  );
  process.exit(2);
}
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
