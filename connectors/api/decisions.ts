import type { APIGatewayProxyEvent, APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { FindingNotFoundError, InputError, RefusedError } from '@core/shared/errors';
import {
  decideApproval,
  decideException,
  claimFalsePositive,
  markFalsePositive,
  rejectFalsePositive,
  reportFixed,
  requestException,
  type DecisionDeps,
} from '@core/lifecycle/decisions';
import { EvidenceKindSchema, FINDING_STATUSES, FindingStatusSchema } from '@core/finding/model';
import { publicEvent, publicFinding } from '@core/finding/views';
import { parseFindingId } from '@core/finding/identity';
import { resolveActor, type Actor, type Caller, type IdentitySettings } from '@core/policy/identity';
import type { Policy } from '@core/policy/policy';
import { decisionActionOf, type DecisionAction } from './routes';

/** A decision-API request, whichever edge it came through (IAM, the IdP's JWT authorizer, `serve`). */
export interface DecisionRequest {
  method: string;
  /** The route's resource, e.g. `/findings/{id}/approve`. */
  resource: string;
  pathParameters: Record<string, string | undefined> | null;
  queryStringParameters: Record<string, string | undefined> | null;
  body: string | null;
  /** Who authenticated the request; undefined when nobody did. */
  caller?: Caller;
}

/** The REST API behind IAM auth: the caller is the SigV4-signed ARN API Gateway verified. */
export function fromRestApi(event: APIGatewayProxyEvent): DecisionRequest {
  const arn = event.requestContext?.identity?.userArn;
  return {
    method: event.httpMethod,
    resource: event.resource,
    pathParameters: event.pathParameters,
    queryStringParameters: event.queryStringParameters,
    body: event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
    ...(arn ? { caller: { kind: 'aws' as const, arn } } : {}),
  };
}

/**
 * The people's HTTP API behind the enterprise IdP's JWT authorizer (payload 2.0): API Gateway
 * checked the token's signature, issuer, audience and expiry; the issuer is checked again here
 * against the policy's, so a token of another IdP never names a principal.
 */
export function fromHttpApi(
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  oidc: IdentitySettings['oidc'],
): DecisionRequest {
  const claims = (event.requestContext?.authorizer?.jwt?.claims ?? {}) as Record<string, unknown>;
  const issuer = typeof claims.iss === 'string' ? claims.iss : undefined;
  const subject = typeof claims.sub === 'string' ? claims.sub : undefined;
  const trusted = oidc && issuer === oidc.issuer && subject;
  return {
    method: event.requestContext.http.method,
    resource: event.routeKey.slice(event.routeKey.indexOf(' ') + 1),
    pathParameters: event.pathParameters ?? null,
    queryStringParameters: event.queryStringParameters ?? null,
    body:
      event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? null),
    ...(trusted ? { caller: { kind: 'oidc' as const, issuer, subject, claims } } : {}),
  };
}

/** The caller as a policy principal (see resolveActor); refused when nobody authenticated the request. */
export function actorOf(caller: Caller | undefined, policy: Policy): Actor {
  if (!caller)
    throw new RefusedError(
      'the caller is not identified (IAM, the identity provider, or the x-closeloop-principal header locally)',
    );
  return resolveActor(caller, policy);
}

const DecisionBody = z.object({ reason: z.string().min(1).optional() });
const ExceptionBody = z.object({
  until: z.string().regex(/^\d{4}-\d{2}-\d{2}/),
  reason: z.string().min(1),
  compensatingControl: z.string().min(1).optional(),
});
const FalsePositiveBody = z.object({ reason: z.string().min(1) });
const DoneBody = z.object({
  note: z.string().min(1).optional(),
  evidence: z.object({ kind: EvidenceKindSchema, ref: z.string().min(1) }).optional(),
});

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * The hub's decisions API (deployed behind IAM auth, and served locally by `closeloop serve`):
 * the FINDING_ROUTES of ./routes.ts. `logError` is told of failures answered with a 500.
 */
export async function handleDecision(
  request: DecisionRequest,
  deps: DecisionDeps,
  logError: (message: string, error: Error) => void = () => undefined,
): Promise<APIGatewayProxyResult> {
  try {
    const id = request.pathParameters?.id ?? '';
    if (request.method === 'GET') return await read(request, deps, id);
    const actor = actorOf(request.caller, deps.policy);
    const body = request.body ? (JSON.parse(request.body) as unknown) : {};
    const action = decisionActionOf(request.resource);
    if (!action) return json(404, { message: `no route ${request.resource}` });
    return json(200, { message: await decide(action, id, actor, body, deps) });
  } catch (err) {
    if (err instanceof z.ZodError || err instanceof SyntaxError || err instanceof InputError)
      return json(400, {
        message:
          err instanceof z.ZodError
            ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
            : err.message,
      });
    if (err instanceof RefusedError) return json(403, { message: err.message });
    if (err instanceof FindingNotFoundError) return json(404, { message: err.message });
    logError('decision failed', err as Error);
    return json(500, { message: 'internal error' });
  }
}

/** Takes one decision; every action of DECISION_ACTIONS has its case. */
async function decide(action: DecisionAction, id: string, actor: Actor, body: unknown, deps: DecisionDeps) {
  const by = { by: actor.name, identity: actor.identity };
  switch (action) {
    case 'approve':
    case 'reject':
      return decideApproval(deps, {
        id,
        ...by,
        decision: action === 'approve' ? 'approved' : 'rejected',
        ...DecisionBody.parse(body),
      });
    case 'exception': {
      const b = ExceptionBody.parse(body);
      return requestException(deps, {
        id,
        ...by,
        until: new Date(b.until),
        reason: b.reason,
        ...(b.compensatingControl ? { compensatingControl: b.compensatingControl } : {}),
      });
    }
    case 'exception/approve':
    case 'exception/reject':
      return decideException(deps, {
        id,
        ...by,
        decision: action === 'exception/approve' ? 'approved' : 'rejected',
        ...DecisionBody.parse(body),
      });
    case 'done': {
      const b = DoneBody.parse(body);
      return reportFixed(deps, {
        id,
        ...by,
        ...(b.note ? { note: b.note } : {}),
        ...(b.evidence ? { evidence: b.evidence } : {}),
      });
    }
    case 'false-positive':
      return markFalsePositive(deps, { id, ...by, ...FalsePositiveBody.parse(body) });
    case 'false-positive/claim':
      return claimFalsePositive(deps, { id, ...by, ...FalsePositiveBody.parse(body) });
    case 'false-positive/reject': {
      const b = DecisionBody.parse(body);
      return rejectFalsePositive(deps, { id, ...by, ...(b.reason ? { reason: b.reason } : {}) });
    }
  }
}

async function read(request: DecisionRequest, deps: DecisionDeps, id: string): Promise<APIGatewayProxyResult> {
  if (request.resource === '/findings') {
    const status = request.queryStringParameters?.status;
    const parsed = status === undefined ? undefined : FindingStatusSchema.safeParse(status);
    if (parsed && !parsed.success)
      throw new InputError(
        `status must be one of ${FINDING_STATUSES.join(', ')}, got ${JSON.stringify((status ?? '').slice(0, 40))}`,
      );
    const findings = await deps.store.list(parsed?.success ? { status: parsed.data } : {});
    return json(200, findings.map(publicFinding));
  }
  if (request.resource === '/findings/{id}') {
    const findingId = parseFindingId(id);
    const finding = await deps.store.get(findingId);
    if (!finding) throw new FindingNotFoundError(findingId);
    return json(200, { ...publicFinding(finding), events: (await deps.store.events(finding.id)).map(publicEvent) });
  }
  return json(404, { message: `no route GET ${request.resource}` });
}
