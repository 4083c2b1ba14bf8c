import { InvalidArgumentError, type Command } from 'commander';
import { InputError } from '@core/shared/errors';
import {
  decideApproval,
  decideException,
  markFalsePositive,
  reportFixed,
  requestException,
} from '@core/lifecycle/decisions';
import type { ResumeAt } from '@core/lifecycle/state';
import { EVIDENCE_KINDS, type EvidenceKind, type TimerKind } from '@core/finding/model';
import { sweepLifecycles } from '@core/lifecycle/start';
import { describeRun, type LocalHub } from '../hub';

const TIMER_RESUME: Record<TimerKind, ResumeAt> = {
  approval_timeout: 'approval_timed_out',
  sla_breach: 'sla_breached',
  exception_expiry: 'exception_expired',
};

type WithHub = <T>(fn: (hub: LocalHub) => Promise<T>) => Promise<T>;

function parseDate(value: string, option: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new InputError(`${option} must be an ISO-8601 date, got ${JSON.stringify(value.slice(0, 40))}`);
  return date;
}

/** One tick at the hub's clock: start pending lifecycles, fire due timers. */
export async function runTick(hub: LocalHub, out: (line: string) => void): Promise<void> {
  const now = hub.clock.now().toISOString();
  const started = await sweepLifecycles(hub.store, hub.lifecycles);
  for (const { id, run } of started) out(`started ${describeRun(id, run)}`);
  const due = await hub.store.dueTimers(now);
  for (const finding of due) {
    const kind = finding.lifecycle!.timerKind!;
    const run = await hub.lifecycles.resume(finding, TIMER_RESUME[kind]);
    out(`${kind.replace('_', ' ')} ${describeRun(finding.id, run)}`);
  }
  out(`tick at ${now}: ${started.length} lifecycle(s) started, ${due.length} timer(s) fired`);
  const synced = await hub.sync();
  out(
    `tickets: ${synced.created} created, ${synced.updated} update(s) sent, ${synced.pending} pending${synced.problems.length > 0 ? ` (${synced.problems[0]})` : ''}`,
  );
}

/** The lifecycle commands: decisions, exceptions, false positives, and the clock (`tick`). */
export function registerLifecycleCommands(program: Command, withHub: WithHub, out: (line: string) => void): void {
  program
    .command('tick')
    .description(
      "fire whatever is due at the hub's clock (CLOSELOOP_NOW): start new lifecycles, SLA escalations, approval timeouts, exception expiries",
    )
    .action(async () => {
      await withHub((hub) => runTick(hub, out));
    });

  const decide = (decision: 'approved' | 'rejected') => async (id: string, opts: { as: string; reason?: string }) => {
    await withHub(async (hub) =>
      out(
        await decideApproval(hub.decisions, {
          id,
          by: opts.as,
          decision,
          ...(opts.reason ? { reason: opts.reason } : {}),
        }),
      ),
    );
  };
  program
    .command('approve')
    .description('approve the remediation a finding waits for')
    .argument('<id>')
    .requiredOption('--as <principal>', 'who approves')
    .option('--reason <text>')
    .action(decide('approved'));
  program
    .command('reject')
    .description('reject it: the owner fixes the finding instead')
    .argument('<id>')
    .requiredOption('--as <principal>', 'who rejects')
    .option('--reason <text>')
    .action(decide('rejected'));

  const exception = program.command('exception').description('risk acceptance with an end date');
  exception
    .command('request')
    .description('the owner asks to accept the risk until a date')
    .argument('<id>')
    .requiredOption('--until <date>', 'ISO-8601 end date (at most the policy maximum for the severity)')
    .requiredOption('--reason <text>', 'why the risk is acceptable')
    .requiredOption('--as <principal>', 'who asks (the owner)')
    .option('--compensating-control <text>', 'what reduces the risk meanwhile')
    .action(async (id: string, opts: { until: string; reason: string; as: string; compensatingControl?: string }) => {
      const until = parseDate(opts.until, '--until');
      await withHub(async (hub) =>
        out(
          await requestException(hub.decisions, {
            id,
            by: opts.as,
            until,
            reason: opts.reason,
            ...(opts.compensatingControl ? { compensatingControl: opts.compensatingControl } : {}),
          }),
        ),
      );
    });
  const decideExc =
    (decision: 'approved' | 'rejected') => async (id: string, opts: { as: string; reason?: string }) => {
      await withHub(async (hub) =>
        out(
          await decideException(hub.decisions, {
            id,
            by: opts.as,
            decision,
            ...(opts.reason ? { reason: opts.reason } : {}),
          }),
        ),
      );
    };
  exception
    .command('approve')
    .description('approve a requested exception (not the requester, not the owner)')
    .argument('<id>')
    .requiredOption('--as <principal>')
    .option('--reason <text>')
    .action(decideExc('approved'));
  exception
    .command('reject')
    .description('reject a requested exception: the owner fixes it')
    .argument('<id>')
    .requiredOption('--as <principal>')
    .option('--reason <text>')
    .action(decideExc('rejected'));

  program
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
    .action(async (id: string, opts: { as: string; note?: string; evidence?: { kind: EvidenceKind; ref: string } }) => {
      await withHub(async (hub) =>
        out(
          await reportFixed(hub.decisions, {
            id,
            by: opts.as,
            ...(opts.note ? { note: opts.note } : {}),
            ...(opts.evidence ? { evidence: opts.evidence } : {}),
          }),
        ),
      );
    });

  program
    .command('false-positive')
    .description('close a finding as a false positive (an approver other than its owner, with a reason)')
    .argument('<id>')
    .requiredOption('--reason <text>', 'why it is not a real exposure')
    .requiredOption('--as <principal>', 'the approver')
    .action(async (id: string, opts: { reason: string; as: string }) => {
      await withHub(async (hub) =>
        out(await markFalsePositive(hub.decisions, { id, by: opts.as, reason: opts.reason })),
      );
    });
}
