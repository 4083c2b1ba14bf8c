import type { ChannelKind, Delivery, Digest, Notice, SendOptions } from './model';

/** A digest as the store keeps it while it is open (one per channel at a time). */
export interface OpenDigest {
  digest: Digest;
  /** `pending`: not sent (or a send was refused); `sending`: a worker holds it; `sent`: delivered, being cleared. */
  state: 'pending' | 'sending' | 'sent';
  attempts: number;
  /** An earlier send's answer was lost: it may have arrived, so the next send says so. */
  uncertain: boolean;
  leaseOwner?: string;
  leaseUntil?: string;
  lastError?: string;
}

/** Where notices, their per-channel queues and the digests live (the one table). */
export interface NotificationStore {
  /** Notices not yet routed to channels, oldest first. */
  pendingNotices(limit: number): Promise<Notice[]>;
  /** Records notices the notifier raises itself (exceptions ending); one that exists is left alone. */
  addNotices(notices: Notice[]): Promise<number>;
  /**
   * Routes a pending notice: queues its deliveries and marks it routed, atomically. `false` when
   * another worker routed it first (nothing written).
   */
  route(notice: Notice, deliveries: Delivery[], at: string): Promise<boolean>;
  /**
   * Marks pending notices routed to no channel (none is configured), in batches and without a
   * condition: whoever else routes them to none writes the same. (A notifier that has channels
   * routes through `route`; two notifiers of one table with different channels are a
   * misconfiguration, and the worst it does here is record a routed notice as routed to none.)
   */
  routeToNone(notices: Notice[], at: string): Promise<void>;
  /** A channel's queued deliveries, oldest first, and how many there are in all (counted up to `cap`). */
  queued(channel: string, limit: number): Promise<{ deliveries: Delivery[]; total: number }>;
  openDigest(channel: string): Promise<OpenDigest | undefined>;
  /** Opens a digest for its channel; `false` when the channel already has one open. */
  createDigest(digest: Digest): Promise<boolean>;
  /**
   * Takes the channel's open digest, as `observed`, to send it: if it is still as observed and free
   * (pending, or its sender's lease expired, which makes it uncertain: that send may have arrived).
   */
  claimDigest(observed: OpenDigest, worker: string, now: string, leaseUntil: string): Promise<OpenDigest | undefined>;
  /** The send failed: the digest stays open with the reason; `uncertain` when it may have arrived. */
  digestFailed(channel: string, digestId: string, worker: string, error: string, uncertain: boolean): Promise<void>;
  /** Delivered: its deliveries leave the queue, the digest goes to the channel's history. Safe to repeat. */
  digestSent(digest: Digest, at: string): Promise<void>;
}

/** A channel that can send a digest (Slack or Teams webhook, SNS). */
export interface NotificationSender {
  readonly kind: ChannelKind;
  /**
   * Sends the digest once. Throws an error whose `notApplied` is true when the channel certainly
   * refused it (4xx); any other failure may have delivered it. Messages name the channel, never its URL.
   */
  send(digest: Digest, options: SendOptions): Promise<void>;
}
