import { routeTicket, TicketRouteSchema } from '@core/tickets/routing';

const finding = (over: Partial<{ owner: string; asset: string; severity: 'critical' | 'high' | 'low' }> = {}) => ({
  owner: over.owner ?? 'team-payments',
  asset: { type: 'repository' as const, id: over.asset ?? 'github.com/acme/payments-api' },
  severity: over.severity ?? 'high',
});
const routes = [
  {
    when: { owner: 'team-payments*', severities: ['critical' as const] },
    sink: { kind: 'jira' as const, project: 'PAY' },
  },
  { when: { asset: 'github.com/acme/checkout-*' }, sink: { kind: 'servicenow' as const, assignmentGroup: 'checkout' } },
].map((r) => TicketRouteSchema.parse(r));

describe('ticket routing', () => {
  it('sends a finding to the first route that matches owner, asset and severity', () => {
    expect(routeTicket(finding({ severity: 'critical' }), routes, { servicenow: true })).toEqual({
      kind: 'jira',
      project: 'PAY',
    });
    expect(routeTicket(finding({ asset: 'github.com/acme/checkout-web' }), routes, { servicenow: true })).toEqual({
      kind: 'servicenow',
      assignmentGroup: 'checkout',
    });
  });

  it('falls back to Jira when configured, then ServiceNow, then the local tracker', () => {
    expect(routeTicket(finding(), routes, { jiraProject: 'SEC', servicenow: true })).toEqual({
      kind: 'jira',
      project: 'SEC',
    });
    expect(routeTicket(finding(), routes, { servicenow: true })).toEqual({ kind: 'servicenow' });
    expect(routeTicket(finding(), [], { servicenow: false })).toEqual({ kind: 'local' });
  });

  it('refuses a Jira route without a project when JIRA_PROJECT_KEY is not set', () => {
    const jiraWithoutProject = [TicketRouteSchema.parse({ sink: { kind: 'jira' } })];
    expect(() => routeTicket(finding(), jiraWithoutProject, { servicenow: false })).toThrow(
      'a ticket route sends to Jira without a project and JIRA_PROJECT_KEY is not set',
    );
    expect(routeTicket(finding(), jiraWithoutProject, { jiraProject: 'SEC', servicenow: false })).toEqual({
      kind: 'jira',
      project: 'SEC',
    });
  });
});
