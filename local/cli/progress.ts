import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on a terminal for long ingests; silent otherwise (pipes, --json, CI). */
export function progressReporter(enabled: boolean) {
  let bar: SingleBar | undefined;
  let currentFile: string | undefined;
  return {
    update: (file: string, done: number, total: number | undefined) => {
      if (!enabled) return;
      if (file !== currentFile) {
        bar?.stop();
        currentFile = file;
        // Streamed JSON lines have no known total: show a running count rather than a bar.
        const format = total ? `${file} [{bar}] {value}/{total} records` : `${file} {value} records`;
        bar = new SingleBar({ format, stream: process.stderr, clearOnComplete: false }, Presets.shades_classic);
        bar.start(total ?? 0, 0);
      }
      bar?.update(done);
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
