import { z } from 'zod';
import { ConfigurationError } from '../shared/errors';
import { matches } from '../policy/ownership';
import type { Finding } from '../finding/model';
import { SEVERITIES } from '../finding/model';
import type { SinkRef, SinkKind } from './model';

const matchesDefined = (pattern: string, value: string | undefined) => value !== undefined && matches(pattern, value);

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
    /** Jira Data Center / Server; `project` defaults to JIRA_DC_PROJECT_KEY. */
    z.object({ kind: z.literal('jira-dc'), project: z.string().min(1).optional() }),
    z.object({ kind: z.literal('servicenow'), assignmentGroup: z.string().min(1).optional() }),
  ]),
});
export type TicketRoute = z.infer<typeof TicketRouteSchema>;

/** A routing rule that cannot be followed with the sinks configured. */
export class RoutingError extends ConfigurationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RoutingError';
  }
}

/** The ticket systems that are configured: their default projects, and ServiceNow. */
export interface ConfiguredSinks {
  jiraProject?: string;
  jiraDcProject?: string;
  servicenow: boolean;
}

/**
 * The sink a finding's ticket goes to: the first matching route; otherwise the default (Jira
 * Cloud when configured, else Jira Data Center, else ServiceNow, else the hub's local tracker).
 */
export function routeTicket(
  finding: Pick<Finding, 'owner' | 'asset' | 'severity'>,
  routes: TicketRoute[],
  configured: ConfiguredSinks,
): SinkRef {
  const route = routes.find(
    (r) =>
      (r.when.owner === undefined || matchesDefined(r.when.owner, finding.owner)) &&
      (r.when.asset === undefined || matchesDefined(r.when.asset, finding.asset.id)) &&
      (r.when.severities === undefined || r.when.severities.includes(finding.severity)),
  );
  if (route) return resolve(route.sink, configured);
  if (configured.jiraProject) return { kind: 'jira', project: configured.jiraProject };
  if (configured.jiraDcProject) return { kind: 'jira-dc', project: configured.jiraDcProject };
  if (configured.servicenow) return { kind: 'servicenow' };
  return { kind: 'local' };
}

function resolve(sink: TicketRoute['sink'], configured: ConfiguredSinks): SinkRef {
  if (sink.kind === 'jira') {
    const project = sink.project ?? configured.jiraProject;
    if (!project)
      throw new RoutingError('a ticket route sends to Jira without a project and JIRA_PROJECT_KEY is not set');
    return { kind: 'jira', project };
  }
  if (sink.kind === 'jira-dc') {
    const project = sink.project ?? configured.jiraDcProject;
    if (!project)
      throw new RoutingError(
        'a ticket route sends to Jira Data Center without a project and JIRA_DC_PROJECT_KEY is not set',
      );
    return { kind: 'jira-dc', project };
  }
  if (sink.kind === 'servicenow')
    return sink.assignmentGroup
      ? { kind: 'servicenow', assignmentGroup: sink.assignmentGroup }
      : { kind: 'servicenow' };
  return { kind: 'local' };
}

export const sinkName = (kind: SinkKind) =>
  ({ local: 'local tracker', jira: 'Jira', 'jira-dc': 'Jira Data Center', servicenow: 'ServiceNow' })[kind];
