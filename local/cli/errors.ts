import { CommanderError } from 'commander';
import { CloseloopError, InputError, RefusedError } from '@core/shared/errors';
import { EXIT, type Io } from './cli';

/** The CLI's option for each request field a core message may name. */
const FLAGS: Readonly<Record<string, string>> = {
  reason: '--reason',
  compensatingControl: '--compensating-control',
  note: '--note',
  evidence: '--evidence',
  'evidence.ref': '--evidence reference',
  until: '--until',
};

/** A core message in the CLI's words: the fields it names become the options that set them. */
export function inFlags(message: string, fields: readonly string[]): string {
  let out = message;
  for (const field of fields) {
    const flag = FLAGS[field];
    if (!flag) continue;
    const escaped = field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(^|[^\\w.-])${escaped}(?![\\w.])`), (_, before: string) => `${before}${flag}`);
  }
  return out;
}

/** The exit code of an error, after printing it in one line. */
/** `TimeoutError: …` when DynamoDB failed or did not answer in time, else undefined. */
function storeFailure(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { $metadata?: unknown; code?: string };
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(e.code ?? '');
  if (e.name === 'StoreUnavailableError' || e.name === 'TimeoutError' || e.$metadata !== undefined || network)
    return `${e.name}: ${e.message}`;
  return undefined;
}

export function handleError(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (help, version, or the usage error).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
      return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof InputError) {
    io.err(`closeloop: ${inFlags(err.message, err.fields)}`);
    return EXIT.usage;
  }
  if (err instanceof RefusedError) {
    io.err(`closeloop: ${inFlags(err.message, err.fields)}`);
    return EXIT.failed;
  }
  const store = storeFailure(err);
  if (store) {
    io.err(`closeloop: the store failed (${store}); every write is idempotent, so it is safe to re-run the command`);
    return EXIT.failed;
  }
  if (err instanceof CloseloopError) {
    io.err(`closeloop: ${err.message}`);
    return EXIT.failed;
  }
  io.err(`closeloop: unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  return EXIT.failed;
}
