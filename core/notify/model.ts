import { z } from 'zod';
import { SEVERITIES, SeveritySchema } from '../finding/model';

/**
 * What people are told about, outside the ticket: an overdue finding, an approval that waits for a
 * role, an exception about to end, a rotation or containment that failed, a live credential.
 */
export const NOTICE_KINDS = [
  'sla.breached',
  'sla.escalated',
  'approval.waiting',
  'exception.expiring',
  'rotation.failed',
  'credential.active',
] as const;
export const NoticeKindSchema = z.enum(NOTICE_KINDS);
export type NoticeKind = z.infer<typeof NoticeKindSchema>;

/** Headings of a digest's sections, in the order a reader needs them. */
export const NOTICE_HEADINGS: Record<NoticeKind, string> = {
  'sla.breached': 'Overdue (SLA breached)',
  'sla.escalated': 'Still overdue (escalated again)',
  'approval.waiting': 'Approvals waiting',
  'exception.expiring': 'Exceptions ending soon',
  'rotation.failed': 'Rotation or containment failed',
  'credential.active': 'Live credentials to revoke',
};

/** Channel kinds: chat incoming webhooks, and the stack's SNS topic (email subscriptions). */
export const CHANNEL_KINDS = ['slack', 'teams', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/**
 * One notification channel of the policy. Its webhook URL is a credential and never in the
 * policy: Secrets Manager holds it deployed, `$CLOSELOOP_HOME/notify-webhooks.json` locally, both
 * under the channel's name.
 */
export const NotificationChannelSchema = z.strictObject({
  /** The channel's name: the key of its webhook URL, and the `channel` attribute of its SNS messages. */
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
      'must be 1-64 letters, digits, "_" or "-", starting with a letter or digit',
    ),
  kind: z.enum(CHANNEL_KINDS),
  /**
   * Whose notices it carries: owners, the escalation contact, approvers (`role:<role>` or a
   * principal's name), `*` wildcards. @default every notice
   */
  to: z.array(z.string().min(1)).min(1).default(['*']),
  /** Which kinds of notice. @default all */
  notices: z.array(NoticeKindSchema).min(1).optional(),
  /** Only findings of these severities (managed-secret notices have none and are left out). @default all */
  severities: z.array(z.enum(SEVERITIES)).min(1).optional(),
});
export type NotificationChannel = z.infer<typeof NotificationChannelSchema>;

/** The policy's `notifications`: where people read about what needs them, and when. */
export const NotificationPolicySchema = z
  .strictObject({
    channels: z
      .array(NotificationChannelSchema)
      .default([])
      .refine((channels) => new Set(channels.map((c) => c.name.toLowerCase())).size === channels.length, {
        message: 'channel names must be unique',
      }),
    /** Exceptions are announced to their owner and approver this many days before they end. */
    exceptionWarningDays: z.number().int().min(1).max(90).default(14),
    /** Deployed: minutes between notifier runs, so at most one digest per channel in that time. */
    digestIntervalMinutes: z.number().int().min(5).max(1440).default(15),
  })
  .default({ channels: [], exceptionWarningDays: 14, digestIntervalMinutes: 15 });
export type NotificationPolicy = z.infer<typeof NotificationPolicySchema>;

/**
 * One notice: written in the same transaction as the audit event that causes it (or, for an
 * exception about to end, once per exception end), then routed to the channels that want it.
 * It carries no secret: ids, the event's reason (redacted when typed by a person) and names.
 */
export const NoticeSchema = z.object({
  /** `<subject>#<event seq>`, or `<subject>#exception.expiring#<until>`: the notice's identity. */
  id: z.string(),
  kind: NoticeKindSchema,
  /** The finding id, or the managed secret's ARN. */
  subject: z.string(),
  subjectKind: z.enum(['finding', 'managed_secret']),
  /** The causing audit event's action. */
  action: z.string(),
  at: z.string(),
  reason: z.string().default(''),
  /** Who the event names: the escalation contact, the approver role, the exception's approver. */
  escalatedTo: z.string().optional(),
  role: z.string().optional(),
  approver: z.string().optional(),
});
export type Notice = z.infer<typeof NoticeSchema>;

/** What a digest line shows of its subject, taken when the notice is routed (no secret, no preview). */
export const SubjectViewSchema = z.object({
  title: z.string(),
  severity: SeveritySchema.optional(),
  status: z.string().optional(),
  owner: z.string().optional(),
  asset: z.string().optional(),
  dueAt: z.string().optional(),
  until: z.string().optional(),
  ticket: z.object({ key: z.string(), url: z.string().optional() }).optional(),
});
export type SubjectView = z.infer<typeof SubjectViewSchema>;

/** A notice queued for one channel, with the recipients it was routed for. */
export const DeliverySchema = z.object({
  channel: z.string(),
  notice: NoticeSchema,
  recipients: z.array(z.string()),
  view: SubjectViewSchema,
});
export type Delivery = z.infer<typeof DeliverySchema>;

/** One line of a digest. */
export interface DigestLine {
  subject: string;
  text: string;
  url?: string;
}

/** A digest: the one message a channel gets in a run, rendered by each channel kind. */
export const DigestSchema = z.object({
  /** Unique per channel and run: `<channel>-<created at>`. */
  id: z.string(),
  channel: z.string(),
  createdAt: z.string(),
  title: z.string(),
  sections: z.array(
    z.object({
      kind: NoticeKindSchema,
      heading: z.string(),
      total: z.number().int().nonnegative(),
      lines: z.array(z.object({ subject: z.string(), text: z.string(), url: z.string().optional() })),
    }),
  ),
  /** Notices already queued for this channel that the next digest carries. */
  waiting: z.number().int().nonnegative().default(0),
  /** The notices it carries (the deliveries it completes), with the time each was queued under. */
  notices: z.array(z.object({ id: z.string(), at: z.string() })),
});
export type Digest = z.infer<typeof DigestSchema>;

/** How a digest is sent: `repeat` when an earlier send of the same digest may have reached the channel. */
export interface SendOptions {
  repeat: boolean;
}
