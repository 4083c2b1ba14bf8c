import { z } from 'zod';
import type { Finding } from '../model';
import { SEVERITIES } from '../model';
import type { SinkRef, SinkKind } from './model';

/** `*` matches any run of characters; everything else is literal. Case-insensitive. */
function matches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i').test(value);
}

/** One routing rule of the policy: the first whose `when` matches chooses the sink. */
export const TicketRouteSchema = z.object({
  when: z
    .object({
      owner: z.string().min(1).optional(),
      asset: z.string().min(1).optional(),
      severities: z.array(z.enum(SEVERITIES)).min(1).optional(),
    })
    .default({}),
  sink: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('local') }),
    /** `project` defaults to JIRA_PROJECT_KEY. */
    z.object({ kind: z.literal('jira'), project: z.string().min(1).optional() }),
    z.object({ kind: z.literal('servicenow'), assignmentGroup: z.string().min(1).optional() }),
  ]),
});
export type TicketRoute = z.infer<typeof TicketRouteSchema>;

export class RoutingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoutingError';
  }
}

/**
 * The sink a finding's ticket goes to: the first matching route; otherwise the default (Jira
 * when configured, else ServiceNow when configured, else the hub's local tracker).
 */
export function routeTicket(finding: Pick<Finding, 'owner' | 'asset' | 'severity'>, routes: TicketRoute[], configured: { jiraProject?: string; servicenow: boolean }): SinkRef {
  const route = routes.find(
    (r) =>
      (r.when.owner === undefined || matches(r.when.owner, finding.owner)) &&
      (r.when.asset === undefined || matches(r.when.asset, finding.asset.id)) &&
      (r.when.severities === undefined || r.when.severities.includes(finding.severity)),
  );
  if (route) return resolve(route.sink, configured);
  if (configured.jiraProject) return { kind: 'jira', project: configured.jiraProject };
  if (configured.servicenow) return { kind: 'servicenow' };
  return { kind: 'local' };
}

function resolve(sink: TicketRoute['sink'], configured: { jiraProject?: string; servicenow: boolean }): SinkRef {
  if (sink.kind === 'jira') {
    const project = sink.project ?? configured.jiraProject;
    if (!project) throw new RoutingError('a ticket route sends to Jira without a project and JIRA_PROJECT_KEY is not set');
    return { kind: 'jira', project };
  }
  if (sink.kind === 'servicenow') return sink.assignmentGroup ? { kind: 'servicenow', assignmentGroup: sink.assignmentGroup } : { kind: 'servicenow' };
  return { kind: 'local' };
}

export const sinkName = (kind: SinkKind) => ({ local: 'local tracker', jira: 'Jira', servicenow: 'ServiceNow' })[kind];
