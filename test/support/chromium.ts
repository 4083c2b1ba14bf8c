import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Headless Chromium (the Debian `chromium` package; `.ci/run` installs it when missing). */
export function chromium() {
  const binary = process.env.CHROMIUM_BIN ?? CANDIDATES.find((c) => existsSync(c));
  if (!binary)
    throw new Error(
      'Chromium is not installed: apt-get install -y chromium (.ci/run installs it), or set CHROMIUM_BIN',
    );
  const run = (args: string[]) => {
    const out = spawnSync(
      binary,
      ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', ...args],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (out.status !== 0)
      throw new Error(
        `chromium ${args.join(' ')} exited ${out.status}: ${out.stderr
          .split('\n')
          .filter((l) => !/dbus|unexpected operator/.test(l))
          .slice(-3)
          .join(' ')}`,
      );
    return out.stdout;
  };
  return {
    /** The DOM after the page loaded and rendered. */
    dumpDom: (file: string) => run(['--dump-dom', `file://${file}`]),
    /** A PNG screenshot of the page. */
    screenshot: (file: string, png: string, size = '1280,1600') => {
      run([`--window-size=${size}`, `--screenshot=${png}`, `file://${file}`]);
    },
  };
}
