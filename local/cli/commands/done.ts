import { InvalidArgumentError, type Command } from 'commander';
import { EVIDENCE_KINDS, type EvidenceKind } from '@core/finding/model';
import { reportFixed } from '@core/lifecycle/decisions';
import type { Cli } from '../cli';

export function doneCommand(cli: Cli): Command {
  return cli
    .command('done')
    .description(
      "the owner reports the fix with evidence (the local tracker's Done); closing still needs the evidence the policy names",
    )
    .argument('<id>')
    .requiredOption('--as <principal>', 'who reports it (the owner)')
    .option('--note <text>', 'resolution note (evidence only where the policy accepts a note)')
    .option(
      '--evidence <kind:ref>',
      `evidence, e.g. key_deactivated:cloudtrail-event-123 (kinds: ${EVIDENCE_KINDS.join(', ')})`,
      (value) => {
        const at = value.indexOf(':');
        const kind = value.slice(0, at);
        if (at <= 0 || at === value.length - 1 || !(EVIDENCE_KINDS as readonly string[]).includes(kind))
          throw new InvalidArgumentError(`must be <kind>:<ref> with kind one of ${EVIDENCE_KINDS.join(', ')}`);
        return { kind: kind as EvidenceKind, ref: value.slice(at + 1) };
      },
    )
    .action((id: string, opts: { as: string; note?: string; evidence?: { kind: EvidenceKind; ref: string } }) => {
      const { note, evidence } = opts;
      return cli.print((hub) =>
        reportFixed(hub.decisions, { id, by: opts.as, ...(note ? { note } : {}), ...(evidence ? { evidence } : {}) }),
      );
    });
}
