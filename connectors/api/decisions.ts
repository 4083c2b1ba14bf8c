import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { FindingNotFoundError, InputError, RefusedError } from '@core/shared/errors';
import {
  decideApproval,
  decideException,
  markFalsePositive,
  reportFixed,
  requestException,
  type DecisionDeps,
} from '@core/lifecycle/decisions';
import { EvidenceKindSchema, FINDING_STATUSES, FindingStatusSchema } from '@core/finding/model';
import { publicEvent, publicFinding } from '@core/finding/views';
import { parseFindingId } from '@core/finding/identity';
import { decisionActionOf, type DecisionAction } from './routes';

/**
 * The caller, as the policy names principals: the IAM user name, or the session name of an
 * assumed role (`arn:aws:sts::123:assumed-role/SecurityLead/alice` → `alice`).
 */
export function principalName(userArn: string | null | undefined): string {
  if (!userArn)
    throw new RefusedError('the caller is not identified (IAM identity, or the x-closeloop-principal header locally)');
  const parts = userArn.split('/');
  return parts[parts.length - 1]!;
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
  event: APIGatewayProxyEvent,
  deps: DecisionDeps,
  logError: (message: string, error: Error) => void = () => undefined,
): Promise<APIGatewayProxyResult> {
  try {
    const id = event.pathParameters?.id ?? '';
    if (event.httpMethod === 'GET') return await read(event, deps, id);
    const by = principalName(event.requestContext.identity.userArn);
    const body = event.body ? (JSON.parse(event.body) as unknown) : {};
    const action = decisionActionOf(event.resource);
    if (!action) return json(404, { message: `no route ${event.resource}` });
    return json(200, { message: await decide(action, id, by, body, deps) });
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
async function decide(action: DecisionAction, id: string, by: string, body: unknown, deps: DecisionDeps) {
  switch (action) {
    case 'approve':
    case 'reject':
      return decideApproval(deps, {
        id,
        by,
        decision: action === 'approve' ? 'approved' : 'rejected',
        ...DecisionBody.parse(body),
      });
    case 'exception': {
      const b = ExceptionBody.parse(body);
      return requestException(deps, {
        id,
        by,
        until: new Date(b.until),
        reason: b.reason,
        ...(b.compensatingControl ? { compensatingControl: b.compensatingControl } : {}),
      });
    }
    case 'exception/approve':
    case 'exception/reject':
      return decideException(deps, {
        id,
        by,
        decision: action === 'exception/approve' ? 'approved' : 'rejected',
        ...DecisionBody.parse(body),
      });
    case 'done': {
      const b = DoneBody.parse(body);
      return reportFixed(deps, {
        id,
        by,
        ...(b.note ? { note: b.note } : {}),
        ...(b.evidence ? { evidence: b.evidence } : {}),
      });
    }
    case 'false-positive':
      return markFalsePositive(deps, { id, by, ...FalsePositiveBody.parse(body) });
  }
}

async function read(event: APIGatewayProxyEvent, deps: DecisionDeps, id: string): Promise<APIGatewayProxyResult> {
  if (event.resource === '/findings') {
    const status = event.queryStringParameters?.status;
    const parsed = status === undefined ? undefined : FindingStatusSchema.safeParse(status);
    if (parsed && !parsed.success)
      throw new InputError(
        `status must be one of ${FINDING_STATUSES.join(', ')}, got ${JSON.stringify((status ?? '').slice(0, 40))}`,
      );
    const findings = await deps.store.list(parsed?.success ? { status: parsed.data } : {});
    return json(200, findings.map(publicFinding));
  }
  if (event.resource === '/findings/{id}') {
    const findingId = parseFindingId(id);
    const finding = await deps.store.get(findingId);
    if (!finding) throw new FindingNotFoundError(findingId);
    return json(200, { ...publicFinding(finding), events: (await deps.store.events(finding.id)).map(publicEvent) });
  }
  return json(404, { message: `no route GET ${event.resource}` });
}
