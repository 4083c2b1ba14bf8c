import type { Command } from 'commander';
import { CloseloopError, FindingNotFoundError, InputError } from '@core/errors';
import { updateFinding } from '@core/lifecycle/update';
import type { ResumeAt } from '@core/lifecycle/state';
import type { Finding, TimerKind } from '@core/model';
import { latestExceptionEnd, mayApprove } from '@core/policy';
import type { LocalHub } from '../hub';
import type { LocalRun } from '../lifecycle-runner';

/** An action the policy refuses (separation of duties, missing role, wrong phase). Exit 1, nothing changed. */
export class RefusedError extends CloseloopError {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

const TIMER_RESUME: Record<TimerKind, ResumeAt> = { approval_timeout: 'approval_timed_out', sla_breach: 'sla_breached', exception_expiry: 'exception_expired' };

type WithHub = <T>(fn: (hub: LocalHub) => Promise<T>) => Promise<T>;

function describeRun(id: string, run: LocalRun): string {
  if (run.outcome === 'parked') return `${id}: waiting at ${run.parkedAt}`;
  return `${id}: lifecycle ${run.outcome}`;
}

async function parked(hub: LocalHub, id: string, waitingAt: string, what: string): Promise<Finding> {
  if (!/^NHI-[0-9A-F]{16}$/i.test(id)) throw new InputError(`finding id must look like NHI-0123456789ABCDEF, got ${JSON.stringify(id.slice(0, 40))}`);
  const finding = await hub.store.get(id.toUpperCase());
  if (!finding) throw new FindingNotFoundError(id.toUpperCase());
  if (finding.lifecycle?.waitingAt !== waitingAt) {
    throw new RefusedError(`${finding.id} is not ${what} (status ${finding.status}${finding.lifecycle?.waitingAt ? `, waiting at ${finding.lifecycle.waitingAt}` : ''})`);
  }
  return finding;
}

function parseDate(value: string, option: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) throw new InputError(`${option} must be an ISO-8601 date, got ${JSON.stringify(value.slice(0, 40))}`);
  return date;
}

/** Starts every lifecycle not yet started (new or reopened findings). Idempotent. */
export async function startPendingLifecycles(hub: LocalHub): Promise<Array<{ id: string; run: LocalRun }>> {
  const started: Array<{ id: string; run: LocalRun }> = [];
  for (const status of ['open', 'reopened'] as const) {
    for (const finding of await hub.store.list({ status })) {
      if ((finding.lifecycle?.startedGeneration ?? 0) >= finding.generation) continue;
      const run = await hub.lifecycles.start(finding);
      if (run) started.push({ id: finding.id, run });
    }
  }
  return started;
}

/** The lifecycle commands: decisions, exceptions, false positives, and the clock (`tick`). */
export function registerLifecycleCommands(program: Command, withHub: WithHub, out: (line: string) => void): void {
  program
    .command('tick')
    .description("fire whatever is due at the hub's clock (CLOSELOOP_NOW): start new lifecycles, SLA escalations, approval timeouts, exception expiries")
    .action(async () => {
      await withHub(async (hub) => {
        const now = hub.clock.now().toISOString();
        const started = await startPendingLifecycles(hub);
        for (const { id, run } of started) out(`started ${describeRun(id, run)}`);
        const due = await hub.store.dueTimers(now);
        for (const finding of due) {
          const kind = finding.lifecycle!.timerKind!;
          const run = await hub.lifecycles.resume(finding, TIMER_RESUME[kind]);
          out(`${kind.replace('_', ' ')} ${describeRun(finding.id, run)}`);
        }
        out(`tick at ${now}: ${started.length} lifecycle(s) started, ${due.length} timer(s) fired`);
      });
    });

  const decide = (decision: 'approved' | 'rejected') => async (id: string, opts: { as: string; reason?: string }) => {
    await withHub(async (hub) => {
      const finding = await parked(hub, id, 'AwaitApproval', 'awaiting approval');
      const verdict = mayApprove({ approver: opts.as, requester: 'closeloop:lifecycle', finding, kind: 'approval' }, hub.policy);
      if (!verdict.allowed) throw new RefusedError(verdict.reason);
      await updateFinding(hub.store, hub.clock, finding.id, (f) => ({
        finding: f,
        events: [{ actor: opts.as, action: decision === 'approved' ? 'approval.granted' : 'approval.rejected', reason: opts.reason ?? `rotation ${decision}` }],
      }));
      const run = await hub.lifecycles.resume(finding, 'approval_decided', { signal: { decision, by: opts.as, ...(opts.reason ? { reason: opts.reason } : {}) } });
      out(`${decision} by ${opts.as}; ${describeRun(finding.id, run)}`);
    });
  };
  program.command('approve').description('approve the remediation a finding waits for').argument('<id>').requiredOption('--as <principal>', 'who approves').option('--reason <text>').action(decide('approved'));
  program.command('reject').description('reject it: the owner fixes the finding instead').argument('<id>').requiredOption('--as <principal>', 'who rejects').option('--reason <text>').action(decide('rejected'));

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
      if (opts.reason.trim() === '') throw new InputError('--reason must not be empty');
      await withHub(async (hub) => {
        const finding = await parked(hub, id, 'AwaitOwnerFix', 'waiting for its owner');
        if (finding.owner !== opts.as) throw new RefusedError(`only the owner (${finding.owner}) can request an exception for ${finding.id}`);
        const now = hub.clock.now();
        if (until.getTime() <= now.getTime()) throw new RefusedError(`--until ${until.toISOString()} is not in the future (hub clock ${now.toISOString()})`);
        const latest = latestExceptionEnd(finding.severity, now, hub.policy);
        if (until.getTime() > latest.getTime()) {
          throw new RefusedError(`exception until ${until.toISOString().slice(0, 10)} exceeds the ${hub.policy.maxExceptionDays[finding.severity]}-day maximum for ${finding.severity} findings (latest ${latest.toISOString().slice(0, 10)})`);
        }
        await updateFinding(hub.store, hub.clock, finding.id, (f, at) => ({
          finding: { ...f, exception: { requestedBy: opts.as, requestedAt: at, until: until.toISOString(), reason: opts.reason, ...(opts.compensatingControl ? { compensatingControl: opts.compensatingControl } : {}) } },
          events: [{ actor: opts.as, action: 'exception.requested', reason: opts.reason, data: { until: until.toISOString(), ...(opts.compensatingControl ? { compensatingControl: opts.compensatingControl } : {}) } }],
        }));
        const run = await hub.lifecycles.resume(finding, 'owner_signal', { signal: { kind: 'exception_requested', by: opts.as } });
        out(`exception requested until ${until.toISOString().slice(0, 10)}; ${describeRun(finding.id, run)}`);
      });
    });

  const decideException = (decision: 'approved' | 'rejected') => async (id: string, opts: { as: string; reason?: string }) => {
    await withHub(async (hub) => {
      const finding = await parked(hub, id, 'AwaitExceptionApproval', 'waiting for an exception decision');
      const requester = finding.exception?.requestedBy ?? '';
      const verdict = mayApprove({ approver: opts.as, requester, finding, kind: 'exception' }, hub.policy);
      if (!verdict.allowed) throw new RefusedError(verdict.reason);
      await updateFinding(hub.store, hub.clock, finding.id, (f, at) => ({
        finding: decision === 'approved' ? { ...f, exception: { ...f.exception!, approvedBy: opts.as, approvedAt: at } } : { ...f, exception: undefined },
        events: [{ actor: opts.as, action: decision === 'approved' ? 'exception.approved' : 'exception.rejected', reason: opts.reason ?? f.exception?.reason ?? decision, data: { until: f.exception?.until, requestedBy: requester } }],
      }));
      const run = await hub.lifecycles.resume(finding, 'exception_decided', { signal: { decision, by: opts.as } });
      out(`exception ${decision} by ${opts.as}; ${describeRun(finding.id, run)}`);
    });
  };
  exception.command('approve').description('approve a requested exception (not the requester, not the owner)').argument('<id>').requiredOption('--as <principal>').option('--reason <text>').action(decideException('approved'));
  exception.command('reject').description('reject a requested exception: the owner fixes it').argument('<id>').requiredOption('--as <principal>').option('--reason <text>').action(decideException('rejected'));

  program
    .command('false-positive')
    .description('close a finding as a false positive (an approver other than its owner, with a reason)')
    .argument('<id>')
    .requiredOption('--reason <text>', 'why it is not a real exposure')
    .requiredOption('--as <principal>', 'the approver')
    .action(async (id: string, opts: { reason: string; as: string }) => {
      if (opts.reason.trim() === '') throw new InputError('--reason must not be empty');
      await withHub(async (hub) => {
        const finding = await parked(hub, id, 'AwaitOwnerFix', 'waiting for its owner');
        const verdict = mayApprove({ approver: opts.as, requester: finding.owner ?? '', finding, kind: 'false_positive' }, hub.policy);
        if (!verdict.allowed) throw new RefusedError(verdict.reason);
        const run = await hub.lifecycles.resume(finding, 'owner_signal', { signal: { kind: 'false_positive_approved', by: opts.as, reason: opts.reason } });
        out(`false positive by ${opts.as}; ${describeRun(finding.id, run)}`);
      });
    });
}
