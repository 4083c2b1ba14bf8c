import { approvalCommand } from './commands/approval';
import { auditCommand } from './commands/audit';
import { doneCommand } from './commands/done';
import { exceptionCommand } from './commands/exception';
import { falsePositiveCommand } from './commands/false-positive';
import { findingsCommand } from './commands/findings';
import { hygieneCommand } from './commands/hygiene';
import { ingestCommand } from './commands/ingest';
import { initCommand } from './commands/init';
import { notifyCommand } from './commands/notify';
import { pullCommand } from './commands/pull';
import { quarantineCommand } from './commands/quarantine';
import { reportCommand } from './commands/report';
import { runCommand } from './commands/run';
import { serveCommand } from './commands/serve';
import { showCommand } from './commands/show';
import { syncCommand } from './commands/sync';
import { tickCommand } from './commands/tick';
import { ticketsCommand } from './commands/tickets';
import { cliProgram, type Io } from './cli';
import { handleError } from './errors';

const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs the CLI; resolves to the process exit code. One module per command, in local/cli/commands/. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const { program, cli, exitCode } = cliProgram(io);
  for (const command of [
    initCommand(cli),
    ingestCommand(cli),
    findingsCommand(cli),
    showCommand(cli),
    quarantineCommand(cli),
    pullCommand(cli),
    hygieneCommand(cli),
    reportCommand(cli),
    auditCommand(cli),
    serveCommand(cli),
    runCommand(cli),
    syncCommand(cli),
    ticketsCommand(cli),
    tickCommand(cli),
    notifyCommand(cli),
    approvalCommand(cli, 'approve'),
    approvalCommand(cli, 'reject'),
    exceptionCommand(cli),
    doneCommand(cli),
    falsePositiveCommand(cli),
  ])
    program.addCommand(command);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    return handleError(err, cli.io);
  }
  return exitCode();
}
