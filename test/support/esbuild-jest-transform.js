// Jest transform on esbuild (already a dependency for the Lambda bundles): TypeScript → CommonJS.
// Chosen over @swc/jest because the npm registry this project installs from carries esbuild's
// platform packages for every OS, so `npm ci` works from one lockfile everywhere.
const { createHash } = require('node:crypto');
const { transformSync, version } = require('esbuild');

module.exports = {
  process(source, filename) {
    // dynamic-import off: import() becomes require() (Jest runs CommonJS without vm modules).
    const result = transformSync(source, { loader: 'ts', format: 'cjs', target: 'node22', supported: { 'dynamic-import': false }, sourcemap: 'inline', sourcefile: filename, sourcesContent: false });
    return { code: result.code };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(version).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
