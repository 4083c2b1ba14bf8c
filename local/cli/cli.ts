import { Command } from 'commander';
import { terminalSafe } from '@core/shared/terminal';
import { readLocalConfig, type LocalConfig } from '../config';
import { openLocalHub, type LocalHub } from '../hub';

/** Exit codes: 0 done, 1 failed or refused, 2 bad arguments or unreadable input (nothing written). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** What every command module gets: output, its own commands with the program's settings, the hub. */
export interface Cli {
  io: Io;
  /** A command with the program's settings (errors thrown, not exiting; output through `io`). */
  command(name: string): Command;
  /** Opens the hub (on the configuration read now, or the one given), runs `fn`, closes the hub. */
  withHub<T>(fn: (hub: LocalHub) => Promise<T>): Promise<T>;
  withHub<T>(config: LocalConfig, fn: (hub: LocalHub) => Promise<T>): Promise<T>;
  /** Opens the hub, prints the line `fn` answers with (a decision's outcome), closes the hub. */
  print(fn: (hub: LocalHub) => Promise<string>): Promise<void>;
  /** The exit code the command ends with, when it is not 0 (a pending sync, a broken chain). */
  exitWith(code: number): void;
}

/** The program and the context its commands are built with. */
export function cliProgram(given: Io): { program: Command; cli: Cli; exitCode: () => number } {
  let exitCode: number = EXIT.ok;
  // Everything printed passes here: a value a command forgot to neutralise (an `--as` echoed in
  // a refusal, a path in an error) still cannot drive the terminal. JSON stays valid and equal:
  // the escapes are JSON's own.
  const io: Io = {
    out: (text) => given.out(terminalSafe(text, { keepNewlines: true })),
    err: (text) => given.err(terminalSafe(text, { keepNewlines: true })),
  };
  const program = new Command('closeloop')
    .description('closeloop: owned, deadlined, evidenced remediation of non-human-identity findings')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError(true);
  const cli: Cli = {
    io,
    command: (name) => new Command(name).copyInheritedSettings(program),
    async withHub<T>(a: LocalConfig | ((hub: LocalHub) => Promise<T>), b?: (hub: LocalHub) => Promise<T>): Promise<T> {
      const [config, fn] = typeof a === 'function' ? [readLocalConfig(), a] : [a, b!];
      const hub = await openLocalHub(config);
      try {
        return await fn(hub);
      } finally {
        await hub.close();
      }
    },
    async print(fn) {
      cli.io.out(await cli.withHub(fn));
    },
    exitWith(code) {
      exitCode = code;
    },
  };
  return { program, cli, exitCode: () => exitCode };
}
