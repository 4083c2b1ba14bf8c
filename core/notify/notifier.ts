import { randomUUID } from 'node:crypto';
import type { Finding } from '../finding/model';
import type { FindingStore } from '../finding/ports';
import type { ManagedSecretStore } from '../rotation/managed-secrets';
import type { Policy } from '../policy/policy';
import type { Clock } from '../shared/clock';
import { DAY_MS } from '../shared/clock';
import { CloseloopError, definitelyNotApplied } from '../shared/errors';
import { inParallel } from '../shared/concurrency';
import { redactText } from '../shared/redaction';
import { buildDigest, MAX_NOTICES_PER_DIGEST } from './digest';
import type { ChannelKind, Delivery, Digest, NotificationChannel, SubjectView } from './model';
import { exceptionExpiringNotice } from './notices';
import type { NotificationSender, NotificationStore, OpenDigest } from './ports';
import { channelWants, findingView, managedSecretView, recipientsOf } from './routing';

export interface NotifierDeps {
  store: NotificationStore;
  findings: Pick<FindingStore, 'getMany' | 'list'>;
  /** Managed secrets' records, for the names of scheduled rotations that failed. */
  secrets: Pick<ManagedSecretStore, 'get'>;
  clock: Clock;
  policy: Policy;
  /** The sender of a channel, or why this process cannot send to it (no webhook URL, no SNS topic). */
  sender(channel: NotificationChannel): NotificationSender | { unavailable: string };
  /** This worker's name in digest leases (unique per process). */
  worker: string;
  /** How long a send may hold a channel's digest before another worker may take it over. @default 5 minutes */
  leaseMs?: number;
  /** Routing stops after this long; what is left is routed next run. @default 60 seconds */
  deadlineMs?: number;
}

export interface ChannelOutcome {
  channel: string;
  kind: ChannelKind;
  outcome: 'sent' | 'nothing' | 'failed' | 'busy' | 'unavailable';
  /** Notices the digest carried (sent or failed). */
  notices: number;
  /** The digest was sent again after an earlier send's answer was lost. */
  repeat?: boolean;
  problem?: string;
}

export interface NotifyResult {
  /** Exceptions about to end, announced for the first time. */
  raised: number;
  /** Notices routed to channels (including those no channel wants). */
  routed: number;
  channels: ChannelOutcome[];
  /** One line per thing that did not go through, naming the channel (never its URL). */
  problems: string[];
}

/** Some channel did not get its digest (deployed, the run fails so that its retries and DLQ alarm tell on-call). */
export class NotificationsUndeliveredError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotificationsUndeliveredError';
  }
}

const describe = (err: unknown) => redactText(err instanceof Error ? err.message : String(err)).slice(0, 300);
const ROUTE_PAGE = 200;

/**
 * One notifier run:
 * 1. exceptions ending within `exceptionWarningDays` get their notice (once per exception end);
 * 2. pending notices are routed: each is queued for every channel whose `to`, `notices` and
 *    `severities` want it, and marked routed in the same transaction (so exactly once);
 * 3. each channel gets at most one message, its digest: the open digest is sent again if an
 *    earlier run did not get it through, otherwise a new one is built from the channel's queue.
 *    A digest is recorded before it is sent and cleared after, so a crash in between sends the
 *    same digest again, marked as a possible repeat; nothing is lost and nothing is sent twice
 *    unless the channel's answer was lost.
 */
export async function runNotifier(deps: NotifierDeps): Promise<NotifyResult> {
  const result: NotifyResult = { raised: 0, routed: 0, channels: [], problems: [] };
  const { channels, exceptionWarningDays } = deps.policy.notifications;
  result.raised = await raiseExpiringExceptions(deps, exceptionWarningDays);
  result.routed = await routeNotices(deps, channels);
  for (const channel of channels) {
    const outcome = await sendDigest(deps, channel);
    result.channels.push(outcome);
    if (outcome.problem) result.problems.push(`channel "${channel.name}" (${channel.kind}): ${outcome.problem}`);
  }
  return result;
}

async function raiseExpiringExceptions(deps: NotifierDeps, warningDays: number): Promise<number> {
  const now = deps.clock.now();
  const horizon = now.getTime() + warningDays * DAY_MS;
  const notices = (await deps.findings.list({ status: 'risk_accepted' })).flatMap((f) => {
    const until = f.exception?.until ? Date.parse(f.exception.until) : NaN;
    if (!(until > now.getTime() && until <= horizon)) return [];
    return exceptionExpiringNotice(f, now.toISOString(), warningDays) ?? [];
  });
  return notices.length > 0 ? deps.store.addNotices(notices) : 0;
}

/** Notices routed at once. */
const ROUTE_CONCURRENCY = 16;

async function routeNotices(deps: NotifierDeps, channels: NotificationChannel[]): Promise<number> {
  const started = Date.now();
  const deadline = deps.deadlineMs ?? 60_000;
  let routed = 0;
  const routedToNone = new Set<string>();
  for (;;) {
    const notices = await deps.store.pendingNotices(ROUTE_PAGE);
    if (notices.length === 0) break;
    if (channels.length === 0) {
      // With no channel, every notice is routed to none, whatever its finding says: one batch.
      const fresh = notices.filter((n) => !routedToNone.has(n.id));
      // An index that still lists what this run routed (it lags on AWS) has nothing more for it.
      if (fresh.length === 0) break;
      await deps.store.routeToNone(fresh, deps.clock.now().toISOString());
      for (const n of fresh) routedToNone.add(n.id);
      routed += fresh.length;
      if (Date.now() - started >= deadline) break;
      continue;
    }
    const findings = await deps.findings.getMany([
      ...new Set(notices.filter((n) => n.subjectKind === 'finding').map((n) => n.subject)),
    ]);
    const secretNames = new Map<string, string | undefined>();
    for (const n of notices)
      if (n.subjectKind === 'managed_secret' && !secretNames.has(n.subject))
        secretNames.set(n.subject, (await deps.secrets.get(n.subject))?.name);
    let progress = 0;
    const at = deps.clock.now().toISOString();
    // Notices are independent (each routes once, guarded by its own state): side by side.
    await inParallel(ROUTE_CONCURRENCY, notices, async (notice) => {
      const finding: Finding | undefined = findings.get(notice.subject);
      const view: SubjectView =
        notice.subjectKind === 'managed_secret'
          ? managedSecretView(notice.subject, secretNames.get(notice.subject))
          : finding
            ? findingView(finding)
            : { title: `finding ${notice.subject}` };
      const recipients = recipientsOf(notice, finding, deps.policy);
      const deliveries: Delivery[] = channels
        .filter((c) => channelWants(c, notice, recipients, finding?.severity))
        .map((c) => ({ channel: c.name, notice, recipients, view }));
      if (await deps.store.route(notice, deliveries, at)) {
        routed++;
        progress++;
      }
    });
    // Another worker routed this page first: what it left is not ours to wait for.
    if (progress === 0 || Date.now() - started >= deadline) break;
  }
  return routed;
}

async function sendDigest(deps: NotifierDeps, channel: NotificationChannel): Promise<ChannelOutcome> {
  const base = { channel: channel.name, kind: channel.kind };
  const sender = deps.sender(channel);
  if ('unavailable' in sender) {
    const { total } = await deps.store.queued(channel.name, 1);
    if (total === 0) return { ...base, outcome: 'nothing', notices: 0 };
    return {
      ...base,
      outcome: 'unavailable',
      notices: total,
      problem: `${sender.unavailable}; ${total} notice(s) stay queued for it`,
    };
  }

  let open: OpenDigest | undefined = await deps.store.openDigest(channel.name);
  if (open?.state === 'sent') {
    // Delivered by a run that stopped before clearing it: finish that, then this run's digest.
    await deps.store.digestSent(open.digest, deps.clock.now().toISOString());
    open = undefined;
  }
  if (!open) {
    const { deliveries, total } = await deps.store.queued(channel.name, MAX_NOTICES_PER_DIGEST);
    if (deliveries.length === 0) return { ...base, outcome: 'nothing', notices: 0 };
    const built = buildDigest(channel.name, deliveries, total - deliveries.length, deps.clock.now());
    const digest: Digest = { ...built, id: `${built.id}-${randomUUID().slice(0, 8)}` };
    if (!(await deps.store.createDigest(digest))) open = await deps.store.openDigest(channel.name);
    else open = { digest, state: 'pending', attempts: 0, uncertain: false };
    if (!open) return { ...base, outcome: 'busy', notices: 0 };
  }

  // Leases are about real time, not the hub's (possibly simulated) clock.
  const now = new Date();
  const claimed = await deps.store.claimDigest(
    open,
    deps.worker,
    now.toISOString(),
    new Date(now.getTime() + (deps.leaseMs ?? 5 * 60_000)).toISOString(),
  );
  if (!claimed) return { ...base, outcome: 'busy', notices: open.digest.notices.length };
  const digest = claimed.digest;
  const repeat = claimed.uncertain;
  try {
    await sender.send(digest, { repeat });
  } catch (err) {
    const refused = definitelyNotApplied(err);
    await deps.store.digestFailed(channel.name, digest.id, deps.worker, describe(err), repeat || !refused);
    return {
      ...base,
      outcome: 'failed',
      notices: digest.notices.length,
      ...(repeat ? { repeat } : {}),
      problem: `${describe(err)}; the digest stays queued and is sent again next run${refused ? '' : ' (marked as a possible repeat)'}`,
    };
  }
  await deps.store.digestSent(digest, deps.clock.now().toISOString());
  return { ...base, outcome: 'sent', notices: digest.notices.length, ...(repeat ? { repeat } : {}) };
}
