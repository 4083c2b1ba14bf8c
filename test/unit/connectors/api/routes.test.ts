import {
  API_ROUTES,
  DECISION_ACTIONS,
  FINDING_ROUTES,
  ROUTES_SUMMARY,
  decisionActionOf,
  matchRoute,
} from '@connectors/api/routes';

describe('the API routes', () => {
  it('has one POST /findings/{id}/<action> route per decision', () => {
    expect(FINDING_ROUTES.filter((r) => r.method === 'POST').map((r) => decisionActionOf(r.resource))).toEqual([
      ...DECISION_ACTIONS,
    ]);
    expect(decisionActionOf('/findings/{id}/reopen')).toBeUndefined();
  });

  it('matches a request path to its route and path parameters, the most specific route first', () => {
    expect(matchRoute(API_ROUTES, 'POST', '/findings/NHI-0000000000000001/exception/approve')).toEqual({
      route: { method: 'POST', resource: '/findings/{id}/exception/approve' },
      params: { id: 'NHI-0000000000000001' },
    });
    expect(matchRoute(API_ROUTES, 'GET', '/reports/exports/5b1f0c1e-0000-4000-8000-000000000001')?.route.resource).toBe(
      '/reports/exports/{id}',
    );
    expect(matchRoute(API_ROUTES, 'GET', '/reports/sla')).toMatchObject({ params: { kind: 'sla' } });
    expect(matchRoute(API_ROUTES, 'POST', '/findings/x/unknown')).toBeUndefined();
    expect(matchRoute(API_ROUTES, 'GET', '/findings/x/approve')).toBeUndefined();
  });

  it('names every route once in the banner', () => {
    expect(ROUTES_SUMMARY).toBe(
      'GET /findings, GET /findings/{id}, POST /findings/{id}/approve|reject|exception|exception/approve|exception/reject|false-positive|false-positive/claim|false-positive/reject|done, POST /webhooks/jira|jira-dc|servicenow|github, GET /reports/{kind}, POST /reports/{kind}/exports, GET /reports/exports/{id}',
    );
  });
});
