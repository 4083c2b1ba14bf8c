import type { Finding } from '../finding/model';
import { matches } from '../policy/ownership';
import type { Policy } from '../policy/policy';
import { redactText } from '../shared/redaction';
import type { Notice, NotificationChannel, SubjectView } from './model';

/**
 * Whom a notice is for, by kind: overdue findings → the escalation contact; approvals → the role
 * (`role:<role>`) and every principal holding it; an exception ending → its owner and approver;
 * failures and live credentials → the owner and the escalation contact.
 */
export function recipientsOf(
  notice: Notice,
  finding: Pick<Finding, 'owner' | 'severity'> | undefined,
  policy: Policy,
): string[] {
  const escalation = notice.escalatedTo ?? policy.escalationContact;
  const owner = finding?.owner;
  const holders = (role: string) => policy.principals.filter((p) => p.roles.includes(role)).map((p) => p.name);
  let out: Array<string | undefined>;
  switch (notice.kind) {
    case 'sla.breached':
    case 'sla.escalated':
      out = [escalation];
      break;
    case 'approval.waiting': {
      // A timeout names only whom it escalated to; the role is the one the severity needs.
      const role = notice.role ?? (finding ? policy.approverRoles[finding.severity] : undefined);
      out = [
        ...(role ? [`role:${role}`, ...holders(role)] : []),
        ...(notice.action === 'approval.timed_out' ? [escalation] : []),
      ];
      break;
    }
    case 'exception.expiring':
      out = [owner, notice.approver];
      break;
    case 'rotation.failed':
    case 'credential.active':
      out = [owner, escalation];
      break;
  }
  return [...new Set(out.filter((r): r is string => Boolean(r)))];
}

/** Whether a channel carries this notice for these recipients and this severity. */
export function channelWants(
  channel: NotificationChannel,
  notice: Notice,
  recipients: string[],
  severity: Finding['severity'] | undefined,
): boolean {
  if (channel.notices && !channel.notices.includes(notice.kind)) return false;
  if (channel.severities && (!severity || !channel.severities.includes(severity))) return false;
  return channel.to.some((pattern) => pattern === '*' || recipients.some((r) => matches(pattern, r)));
}

/** What a digest line shows of a finding: id, title, severity, owner, due date, ticket. Never a secret. */
export function findingView(finding: Finding): SubjectView {
  return {
    title: redactText(finding.title).slice(0, 200),
    severity: finding.severity,
    status: finding.status,
    ...(finding.owner ? { owner: finding.owner } : {}),
    asset: redactText(finding.asset.id).slice(0, 200),
    ...(finding.dueAt ? { dueAt: finding.dueAt } : {}),
    ...(finding.exception?.until ? { until: finding.exception.until } : {}),
    ...(finding.ticket
      ? { ticket: { key: finding.ticket.key, ...(finding.ticket.url ? { url: finding.ticket.url } : {}) } }
      : {}),
  };
}

/** What a digest line shows of a managed secret (scheduled rotations): its ARN's name. */
export function managedSecretView(arn: string, name: string | undefined): SubjectView {
  return { title: `managed secret ${name ?? arn.split(':').pop() ?? arn}`, asset: arn };
}
