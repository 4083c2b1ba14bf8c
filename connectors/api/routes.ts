/**
 * The hub's HTTP API, defined once: API Gateway's resources (infra), `closeloop serve`, the
 * decision handler's switch and the CLI's banner all read these.
 */

/** `POST /findings/{id}/<action>`: the decisions a person takes on a finding. */
export const DECISION_ACTIONS = [
  'approve',
  'reject',
  'exception',
  'exception/approve',
  'exception/reject',
  'false-positive',
  'false-positive/claim',
  'false-positive/reject',
  'done',
] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** `POST /webhooks/<system>`: inbound ticket webhooks (authenticated by signature, not IAM). */
export const WEBHOOK_SYSTEMS = ['jira', 'jira-dc', 'servicenow'] as const;
export type WebhookSystem = (typeof WEBHOOK_SYSTEMS)[number];

/** An API Gateway resource path and its method; `{name}` is a path parameter. */
export interface ApiRoute {
  method: 'GET' | 'POST';
  resource: string;
}

/** The decisions API (IAM auth): findings, and the decisions on one. */
export const FINDING_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', resource: '/findings' },
  { method: 'GET', resource: '/findings/{id}' },
  ...DECISION_ACTIONS.map((action) => ({ method: 'POST' as const, resource: `/findings/{id}/${action}` })),
];

export const WEBHOOK_ROUTES: readonly ApiRoute[] = WEBHOOK_SYSTEMS.map((system) => ({
  method: 'POST' as const,
  resource: `/webhooks/${system}`,
}));

/** `POST /webhooks/<scanner>`: scanner webhooks (signed by the scanner; deployed with the deploy file's `sources`). */
export const SCANNER_WEBHOOKS = ['github'] as const;
export type ScannerWebhook = (typeof SCANNER_WEBHOOKS)[number];

export const SCANNER_WEBHOOK_ROUTES: readonly ApiRoute[] = SCANNER_WEBHOOKS.map((scanner) => ({
  method: 'POST' as const,
  resource: `/webhooks/${scanner}`,
}));

/** The report API (IAM auth; the auditor role may call only these). */
export const REPORT_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', resource: '/reports/{kind}' },
  { method: 'POST', resource: '/reports/{kind}/exports' },
  { method: 'GET', resource: '/reports/exports/{id}' },
];

export const API_ROUTES: readonly ApiRoute[] = [
  ...FINDING_ROUTES,
  ...WEBHOOK_ROUTES,
  ...SCANNER_WEBHOOK_ROUTES,
  ...REPORT_ROUTES,
];

/** The decision a `/findings/{id}/<action>` resource names, if it is one. */
export function decisionActionOf(resource: string): DecisionAction | undefined {
  const action = resource.startsWith('/findings/{id}/') ? resource.slice('/findings/{id}/'.length) : undefined;
  return DECISION_ACTIONS.find((a) => a === action);
}

/**
 * The route a request path matches, with its path parameters; the most specific route wins
 * (`/reports/exports/{id}` before `/reports/{kind}`).
 */
export function matchRoute(
  routes: readonly ApiRoute[],
  method: string,
  path: string,
): { route: ApiRoute; params: Record<string, string> } | undefined {
  const parts = path.split('/');
  let best: { route: ApiRoute; params: Record<string, string>; literal: number } | undefined;
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.resource.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let literal = 0;
    const matches = pattern.every((segment, i) => {
      const part = parts[i]!;
      if (segment.startsWith('{') && segment.endsWith('}')) {
        if (part === '') return false;
        params[segment.slice(1, -1)] = decodeURIComponent(part);
        return true;
      }
      literal++;
      return segment === part;
    });
    if (matches && (!best || literal > best.literal)) best = { route, params, literal };
  }
  return best && { route: best.route, params: best.params };
}

/** Every route in one line, for banners: the decisions and the webhooks each listed once. */
export const ROUTES_SUMMARY = [
  ...FINDING_ROUTES.filter((r) => !decisionActionOf(r.resource)).map((r) => `${r.method} ${r.resource}`),
  `POST /findings/{id}/${DECISION_ACTIONS.join('|')}`,
  `POST /webhooks/${[...WEBHOOK_SYSTEMS, ...SCANNER_WEBHOOKS].join('|')}`,
  ...REPORT_ROUTES.map((r) => `${r.method} ${r.resource}`),
].join(', ');
