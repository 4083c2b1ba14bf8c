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
import { handleGithubWebhook, type GithubWebhookDeps } from '@connectors/api/github-webhook';

/** Local principal header: `closeloop serve` listens on loopback only, where there is no IAM. */
export const PRINCIPAL_HEADER = 'x-closeloop-principal';

/** Webhook bodies up to 1 MiB (Jira's issue payloads can be large); decisions up to 64 KiB. */
const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * The caller the local header names, resolved through the policy's bindings like any other: an
 * IAM ARN is read as the deployed API would read SigV4's (so a forged session name stays the
 * role's), anything else is a local name.
 */
export const localCaller = (header: string): Caller =>
  header.startsWith('arn:') ? { kind: 'aws', arn: header } : { kind: 'local', name: header };

/** The local stand-in for an export's presigned S3 link (not part of the deployed API). */
const EXPORT_FILE_ROUTE: ApiRoute = { method: 'GET', resource: '/reports/exports/{id}/file' };

/** A request body over the route's limit: answered 413, the rest of it never read. */
class BodyTooLargeError extends InputError {
  constructor(
    readonly limit: number,
    options?: ErrorOptions,
  ) {
    super(`the request body is larger than ${limit} bytes`, options);
    this.name = 'BodyTooLargeError';
  }
}

/** The body's bytes as received, at most `limit` of them (a declared Content-Length over it is refused unread). */
async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as text, decoded once from all its bytes (a character split across two chunks stays
 * whole). Strict: invalid UTF-8 is refused, so the text's UTF-8 encoding is exactly the bytes
 * received, and a signature over the text is the signature over the raw body.
 */
function bodyText(raw: Buffer): string {
  try {
    return UTF8.decode(raw);
  } catch {
    throw new InputError('the request body is not UTF-8');
  }
}

/** Host names that reach this server: it listens on 127.0.0.1 only. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost'];

/**
 * Why a request did not come from this machine's own clients, or undefined. A page on another
 * site can reach a loopback port through DNS rebinding (its name resolving to 127.0.0.1: the
 * Host header still names it) or with a cross-site `text/plain` POST (no preflight; the Origin
 * header names the site). Either could act under the trusted principal header.
 */
function foreignRequest(req: IncomingMessage, port: number): string | undefined {
  const host = req.headers.host;
  const hosts = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  if (!host || !hosts.includes(host.toLowerCase()))
    return `Host ${JSON.stringify((host ?? '').slice(0, 80))} is not this server: closeloop serve answers ${hosts.join(' or ')} only`;
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin.toLowerCase() === `http://${h}`))
    return `Origin ${JSON.stringify(origin.slice(0, 80))} is another site: closeloop serve takes no cross-site requests`;
  return undefined;
}

const send = (res: ServerResponse, result: Pick<APIGatewayProxyResult, 'statusCode' | 'headers' | 'body'>) =>
  res.writeHead(result.statusCode, result.headers as Record<string, string>).end(result.body);

const answer = (statusCode: number, message: string) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message }),
});
const notFound = (message: string) => answer(404, message);

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
  githubWebhook?: GithubWebhookDeps,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const foreign = foreignRequest(req, (server.address() as AddressInfo).port);
      if (foreign) return send(res, answer(403, foreign));
      let url: URL;
      let match: ReturnType<typeof matchRoute>;
      try {
        url = new URL(req.url ?? '/', 'http://127.0.0.1');
        match = matchRoute([...API_ROUTES, EXPORT_FILE_ROUTE], req.method ?? '', url.pathname);
      } catch (err) {
        // URIError from decoding a path parameter ("%E0%A4%A"), TypeError from an unparseable URL.
        if (err instanceof URIError || err instanceof TypeError)
          return send(res, answer(400, 'the request path is not a valid URL (malformed percent-encoding)'));
        throw err;
      }
      const principal = req.headers[PRINCIPAL_HEADER];
      const named = typeof principal === 'string' && principal !== '' ? principal : undefined;
      const query = Object.fromEntries(url.searchParams);
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
      } else if (resource === '/webhooks/github' && githubWebhook) {
        const result = await handleGithubWebhook(
          bodyText(await readBody(req, WEBHOOK_BODY_LIMIT)),
          req.headers as Record<string, string>,
          githubWebhook,
        );
        send(res, { ...result, headers: { 'content-type': 'application/json' } });
      } else if (resource?.startsWith('/webhooks/') && resource !== '/webhooks/github' && webhooks) {
        const system = resource.slice('/webhooks/'.length) as WebhookSystem;
        const result = await handleTicketWebhook(
          system,
          bodyText(await readBody(req, WEBHOOK_BODY_LIMIT)),
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
          body: req.method === 'POST' ? bodyText(await readBody(req)) : null,
          ...(named ? { caller: localCaller(named) } : {}),
        };
        send(res, await handleDecision(request, deps, logError));
      } else {
        send(res, notFound(`no route ${req.method} ${url.pathname}`));
      }
    })().catch((err: Error) => {
      if (err instanceof BodyTooLargeError) {
        // The rest of the body is not read: the connection closes after the answer.
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ message: err.message }));
      } else if (err instanceof InputError) send(res, answer(400, err.message));
      else res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err.message }));
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
