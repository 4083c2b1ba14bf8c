import type { Command } from 'commander';
import { verifyAllChains } from '@core/audit/verify';
import { EXIT, type Cli } from '../cli';

export function auditCommand(cli: Cli): Command {
  const audit = cli.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description('check every hash-chained audit trail (findings, managed secrets); exits 1 naming the first break')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await cli.withHub(async (hub) => {
        const result = await verifyAllChains(hub.store, hub.secrets);
        if (opts.json) cli.io.out(JSON.stringify(result));
        else if (result.ok)
          cli.io.out(
            `audit verify: ${result.findings} findings${result.secrets > 0 ? `, ${result.secrets} managed secrets` : ''}, ${result.events} events, every chain intact`,
          );
        else
          cli.io.err(
            `closeloop: audit chain broken: ${result.findingId.startsWith('NHI-') ? 'finding' : 'managed secret'} ${result.findingId}, ${result.problem}`,
          );
        if (!result.ok) cli.exitWith(EXIT.failed);
      });
    });
  return audit;
}
