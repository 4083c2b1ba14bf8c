import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InputError } from '@core/shared/errors';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import { handleDecision } from '@functions/lifecycle-api';
import { handleTicketWebhook, type WebhookDeps } from '@functions/ticket-webhooks';
import {
  handleExportRequest,
  handleExportStatus,
  handleReportRequest,
  type ReportApiDeps,
  type ReportExportDeps,
} from '@functions/report-api';
import { exportContentType, exportStatus } from '@core/reports/exports';

/** Local principal header: `closeloop serve` listens on loopback only, where there is no IAM. */
export const PRINCIPAL_HEADER = 'x-closeloop-principal';

const ROUTES: Array<{ method: string; pattern: RegExp; resource: string }> = [
  { method: 'GET', pattern: /^\/findings$/, resource: '/findings' },
  { method: 'GET', pattern: /^\/findings\/([^/]+)$/, resource: '/findings/{id}' },
  ...['approve', 'reject', 'exception', 'exception/approve', 'exception/reject', 'false-positive', 'done'].map(
    (action) => ({
      method: 'POST',
      pattern: new RegExp(`^/findings/([^/]+)/${action.replace('/', '\\/')}$`),
      resource: `/findings/{id}/${action}`,
    }),
  ),
];

/** Export routes: POST /reports/{kind}/exports, GET /reports/exports/{id}, GET /reports/exports/{id}/file. */
function exportRouteOf(
  method: string,
  path: string,
): { route: 'create' | 'status' | 'file'; param: string } | undefined {
  const create = method === 'POST' ? /^\/reports\/([^/]+)\/exports$/.exec(path) : null;
  if (create) return { route: 'create', param: decodeURIComponent(create[1]!) };
  const status = method === 'GET' ? /^\/reports\/exports\/([^/]+)(\/file)?$/.exec(path) : null;
  if (status) return { route: status[2] ? 'file' : 'status', param: decodeURIComponent(status[1]!) };
  return undefined;
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new InputError('request body too large');
  }
  return body;
}

/**
 * The local HTTP API: the deployed API's routes, answered by the same handler the Lambda runs
 * (`handleDecision`), with decisions resuming the local lifecycle runner. Binds 127.0.0.1 only.
 */
export async function startLocalApi(
  deps: DecisionDeps,
  port = 0,
  webhooks?: WebhookDeps,
  reports?: ReportApiDeps,
  exportDeps?: ReportExportDeps,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const principal = req.headers[PRINCIPAL_HEADER];
      const exportRoute = exportDeps ? exportRouteOf(req.method ?? '', url.pathname) : undefined;
      if (exportRoute && exportDeps) {
        if (exportRoute.route === 'create') {
          const result = await handleExportRequest(
            {
              pathParameters: { kind: exportRoute.param },
              queryStringParameters: Object.fromEntries(url.searchParams),
            },
            typeof principal === 'string' && principal !== '' ? principal : 'local',
            exportDeps,
          );
          res.writeHead(result.statusCode, result.headers as Record<string, string>).end(result.body);
        } else if (exportRoute.route === 'status') {
          const result = await handleExportStatus(exportRoute.param, exportDeps);
          res.writeHead(result.statusCode, result.headers as Record<string, string>).end(result.body);
        } else {
          // The local stand-in for the presigned S3 link.
          const status = /^[0-9a-f-]{36}$/.test(exportRoute.param)
            ? await exportStatus(exportRoute.param, exportDeps.files).catch(() => undefined)
            : undefined;
          const body = status?.status === 'done' ? await exportDeps.files.get(status.file) : undefined;
          if (status?.status !== 'done' || body === undefined) {
            res
              .writeHead(404, { 'content-type': 'application/json' })
              .end(JSON.stringify({ message: `export ${exportRoute.param} has no file (yet)` }));
            return;
          }
          res
            .writeHead(200, {
              'content-type': exportContentType(status.filename),
              'content-disposition': `attachment; filename="${status.filename}"`,
            })
            .end(body);
        }
        return;
      }
      const hook = req.method === 'POST' ? /^\/webhooks\/(jira|servicenow)$/.exec(url.pathname) : null;
      if (hook && webhooks) {
        const result = await handleTicketWebhook(
          hook[1] as 'jira' | 'servicenow',
          await readBody(req, 1024 * 1024),
          req.headers as Record<string, string>,
          webhooks,
        );
        res.writeHead(result.statusCode, { 'content-type': 'application/json' }).end(result.body);
        return;
      }
      const report = req.method === 'GET' ? /^\/reports\/([^/]+)$/.exec(url.pathname) : null;
      if (report && reports) {
        const result = await handleReportRequest(
          {
            pathParameters: { kind: decodeURIComponent(report[1]!) },
            queryStringParameters: Object.fromEntries(url.searchParams),
          },
          reports,
        );
        res.writeHead(result.statusCode, result.headers as Record<string, string>).end(result.body);
        return;
      }
      const route = ROUTES.find((r) => r.method === req.method && r.pattern.test(url.pathname));
      if (!route) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `no route ${req.method} ${url.pathname}` }));
        return;
      }
      const id = route.pattern.exec(url.pathname)?.[1];
      const event = {
        httpMethod: req.method,
        resource: route.resource,
        path: url.pathname,
        pathParameters: id ? { id: decodeURIComponent(id) } : null,
        queryStringParameters: Object.fromEntries(url.searchParams),
        body: req.method === 'POST' ? await readBody(req) : null,
        requestContext: {
          identity: { userArn: typeof principal === 'string' && principal !== '' ? `local/${principal}` : null },
        },
      } as unknown as APIGatewayProxyEvent;
      const result = await handleDecision(event, deps);
      res.writeHead(result.statusCode, result.headers as Record<string, string>).end(result.body);
    })().catch((err: Error) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
