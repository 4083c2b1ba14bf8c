// Jest transform on esbuild (already a dependency for the Lambda bundles): TypeScript → CommonJS.
// Chosen over @swc/jest because the npm registry this project installs from carries esbuild's
// platform packages for every OS, so `npm ci` works from one lockfile everywhere.
const { createHash } = require('node:crypto');
const { transformSync, version } = require('esbuild');

// dynamic-import off: import() becomes require() (Jest runs CommonJS without vm modules).
const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  target: 'node22',
  supported: { 'dynamic-import': false },
  sourcemap: 'inline',
  sourcesContent: false,
};
// The cache key covers the options too: Jest's cache outlives changes to this file.
const CONFIG_KEY = `${version}:${JSON.stringify(OPTIONS)}`;

module.exports = {
  process(source, filename) {
    return { code: transformSync(source, { ...OPTIONS, sourcefile: filename }).code };
  },
  getCacheKey(source, filename) {
    return createHash('sha256')
      .update(CONFIG_KEY)
      .update('\0')
      .update(filename)
      .update('\0')
      .update(source)
      .digest('hex');
  },
};
