import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import { ExportNotFoundError, exportContentType, exportStatus } from '@core/reports/exports';
import { InputError } from '@core/shared/errors';
import { handleDecision, type DecisionRequest } from '@connectors/api/decisions';
import type { Caller } from '@core/policy/identity';
import {
  handleExportRequest,
  handleExportStatus,
  handleReportRequest,
  type ReportApiDeps,
  type ReportExportDeps,
} from '@connectors/api/reports';
import { API_ROUTES, matchRoute, type ApiRoute, type WebhookSystem } from '@connectors/api/routes';
import { handleTicketWebhook, type WebhookDeps } from '@connectors/api/webhooks';

/** Local principal header: `closeloop serve` listens on loopback only, where there is no IAM. */
export const PRINCIPAL_HEADER = 'x-closeloop-principal';

/**
 * The caller the local header names, resolved through the policy's bindings like any other: an
 * IAM ARN is read as the deployed API would read SigV4's (so a forged session name stays the
 * role's), anything else is a local name.
 */
export const localCaller = (header: string): Caller =>
  header.startsWith('arn:') ? { kind: 'aws', arn: header } : { kind: 'local', name: header };

/** The local stand-in for an export's presigned S3 link (not part of the deployed API). */
const EXPORT_FILE_ROUTE: ApiRoute = { method: 'GET', resource: '/reports/exports/{id}/file' };

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new InputError('request body too large');
  }
  return body;
}

const send = (res: ServerResponse, result: Pick<APIGatewayProxyResult, 'statusCode' | 'headers' | 'body'>) =>
  res.writeHead(result.statusCode, result.headers as Record<string, string>).end(result.body);

const notFound = (message: string) => ({
  statusCode: 404,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message }),
});

/**
 * The local HTTP API: the deployed API's routes (connectors/api/routes.ts), answered by the same
 * handlers the Lambdas run, with decisions resuming the local lifecycle runner. Binds 127.0.0.1 only.
 */
export async function startLocalApi(
  deps: DecisionDeps,
  port = 0,
  webhooks?: WebhookDeps,
  reports?: ReportApiDeps,
  exportDeps?: ReportExportDeps,
  logError: (message: string, error: Error) => void = () => undefined,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const principal = req.headers[PRINCIPAL_HEADER];
      const named = typeof principal === 'string' && principal !== '' ? principal : undefined;
      const query = Object.fromEntries(url.searchParams);
      const match = matchRoute([...API_ROUTES, EXPORT_FILE_ROUTE], req.method ?? '', url.pathname);
      const resource = match?.route.resource;
      const params = match?.params ?? {};
      if (resource === '/reports/{kind}/exports' && exportDeps) {
        send(
          res,
          await handleExportRequest(
            { pathParameters: params, queryStringParameters: query },
            named ?? 'local',
            exportDeps,
          ),
        );
      } else if (resource === '/reports/exports/{id}' && exportDeps) {
        send(res, await handleExportStatus(params.id, exportDeps));
      } else if (resource === EXPORT_FILE_ROUTE.resource && exportDeps) {
        await sendExportFile(res, params.id!, exportDeps);
      } else if (resource?.startsWith('/webhooks/') && webhooks) {
        const system = resource.slice('/webhooks/'.length) as WebhookSystem;
        const result = await handleTicketWebhook(
          system,
          await readBody(req, 1024 * 1024),
          req.headers as Record<string, string>,
          webhooks,
        );
        send(res, { ...result, headers: { 'content-type': 'application/json' } });
      } else if (resource === '/reports/{kind}' && reports) {
        send(res, await handleReportRequest({ pathParameters: params, queryStringParameters: query }, reports));
      } else if (resource?.startsWith('/findings')) {
        const request: DecisionRequest = {
          method: req.method ?? 'GET',
          resource,
          pathParameters: params.id ? { id: params.id } : null,
          queryStringParameters: query,
          body: req.method === 'POST' ? await readBody(req) : null,
          ...(named ? { caller: localCaller(named) } : {}),
        };
        send(res, await handleDecision(request, deps, logError));
      } else {
        send(res, notFound(`no route ${req.method} ${url.pathname}`));
      }
    })().catch((err: Error) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** GET /reports/exports/{id}/file: the file of a finished export. */
async function sendExportFile(res: ServerResponse, id: string, exportDeps: ReportExportDeps): Promise<void> {
  let status: Awaited<ReturnType<typeof exportStatus>> | undefined;
  if (/^[0-9a-f-]{36}$/.test(id)) {
    try {
      status = await exportStatus(id, exportDeps.files);
    } catch (err) {
      if (!(err instanceof ExportNotFoundError)) throw err;
    }
  }
  const body = status?.status === 'done' ? await exportDeps.files.get(status.file) : undefined;
  if (status?.status !== 'done' || body === undefined) {
    send(res, notFound(`export ${id} has no file (yet)`));
    return;
  }
  res
    .writeHead(200, {
      'content-type': exportContentType(status.filename),
      'content-disposition': `attachment; filename="${status.filename}"`,
    })
    .end(body);
}
