import type { Command } from 'commander';
import { quarantineTable } from '../format';
import type { Cli } from '../cli';

export function quarantineCommand(cli: Cli): Command {
  const quarantine = cli.command('quarantine').description('records rejected at ingest, kept redacted');
  quarantine
    .command('list')
    .description('list quarantined records')
    .option('--json', 'print JSON (with the redacted records)')
    .action(async (opts: { json?: boolean }) => {
      await cli.withHub(async (hub) => {
        const entries = await hub.store.listQuarantine();
        cli.io.out(
          opts.json
            ? JSON.stringify(
                entries.map((e) => ({ ...e, redactedRecord: JSON.parse(e.redactedRecord) as unknown })),
                null,
                2,
              )
            : quarantineTable(entries),
        );
      });
    });
  return quarantine;
}
