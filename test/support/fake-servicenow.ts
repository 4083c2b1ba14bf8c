import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startHttpServer } from './http-server';

export interface SnRecord {
  sys_id: string;
  number: string;
  fields: Record<string, string>;
  workNotes: string[];
}

/**
 * A ServiceNow stand-in on 127.0.0.1: the Table API for one task table (create, query by
 * correlation_id / number, PATCH with work notes), sys_journal_field for work notes, the
 * IdentifyReconcile API, and an application CI table with owners. Basic auth, or an OAuth
 * bearer token when `bearerToken` is given.
 */
export async function startFakeServiceNow(
  options: {
    table?: string;
    appOwners?: Record<string, string>;
    dropAfterCreate?: number;
    bearerToken?: string;
    /** sys_user records: user_name → sys_id. */
    users?: Record<string, string>;
  } = {},
) {
  const table = options.table ?? 'sn_si_task';
  const records: SnRecord[] = [];
  /** sysapproval_approver records. */
  const approvals: Array<{ sys_id: string; sysapproval: string; approver: string; state: string; comments: string }> =
    [];
  const cis = new Map<string, { className: string; values: Record<string, unknown> }>();
  const relations: unknown[] = [];
  let creates = 0;
  const auth = options.bearerToken
    ? `Bearer ${options.bearerToken}`
    : `Basic ${Buffer.from('closeloop:sn-password').toString('base64')}`;
  const server = await startHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.headers.authorization !== auth)
        return sendJson(res, 401, { error: { message: 'User Not Authenticated' } });
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const query = url.searchParams.get('sysparm_query') ?? '';
      if (req.method === 'POST' && url.pathname === `/api/now/table/${table}`) {
        const record: SnRecord = {
          sys_id: `sys${records.length + 1}`,
          number: `SIT${String(records.length + 1).padStart(7, '0')}`,
          fields: {},
          workNotes: [],
        };
        for (const [k, v] of Object.entries(body))
          if (k === 'work_notes') record.workNotes.push(String(v));
          else record.fields[k] = String(v);
        records.push(record);
        if (++creates === options.dropAfterCreate) return void req.socket.destroy();
        return sendJson(res, 201, {
          result: { sys_id: record.sys_id, number: record.number, correlation_id: record.fields.correlation_id },
        });
      }
      if (req.method === 'GET' && url.pathname === `/api/now/table/${table}`) {
        const ids = /correlation_idIN([^^]*)/.exec(query)?.[1]?.split(',');
        const number = /^number=(.*)$/.exec(query)?.[1];
        const hits = records.filter((r) => (ids ? ids.includes(r.fields.correlation_id ?? '') : r.number === number));
        return sendJson(res, 200, {
          result: hits.map((r) => ({
            sys_id: r.sys_id,
            number: r.number,
            correlation_id: r.fields.correlation_id,
            ...(r.fields.state !== undefined ? { state: r.fields.state } : {}),
          })),
        });
      }
      const patch = new RegExp(`^/api/now/table/${table}/(.+)$`).exec(url.pathname);
      if (req.method === 'PATCH' && patch) {
        const record = records.find((r) => r.sys_id === patch[1]);
        if (!record) return sendJson(res, 404, { error: { message: 'No Record found' } });
        for (const [k, v] of Object.entries(body))
          if (k === 'work_notes') record.workNotes.push(String(v));
          else record.fields[k] = String(v);
        return sendJson(res, 200, { result: { sys_id: record.sys_id } });
      }
      if (req.method === 'GET' && url.pathname === '/api/now/table/sys_user') {
        const name = /^user_name=(.*)$/.exec(query)?.[1] ?? '';
        const sysId = options.users?.[name];
        return sendJson(res, 200, { result: sysId ? [{ sys_id: sysId }] : [] });
      }
      if (url.pathname === '/api/now/table/sysapproval_approver') {
        if (req.method === 'POST') {
          const approval = {
            sys_id: `apr${approvals.length + 1}`,
            sysapproval: String(body.sysapproval),
            approver: String(body.approver),
            state: String(body.state ?? 'requested'),
            comments: String(body.comments ?? ''),
          };
          approvals.push(approval);
          return sendJson(res, 201, { result: { sys_id: approval.sys_id } });
        }
        const where = Object.fromEntries(query.split('^').map((c) => c.split('=') as [string, string]));
        const hits = approvals.filter(
          (a) =>
            (!where.sysapproval || a.sysapproval === where.sysapproval) &&
            (!where.approver || a.approver === where.approver) &&
            (!where.state || a.state === where.state),
        );
        return sendJson(res, 200, { result: hits.map((a) => ({ sys_id: a.sys_id })) });
      }
      const approvalPatch = /^\/api\/now\/table\/sysapproval_approver\/(.+)$/.exec(url.pathname);
      if (req.method === 'PATCH' && approvalPatch) {
        const approval = approvals.find((a) => a.sys_id === approvalPatch[1]);
        if (!approval) return sendJson(res, 404, { error: { message: 'No Record found' } });
        Object.assign(approval, body);
        return sendJson(res, 200, { result: { sys_id: approval.sys_id } });
      }
      if (req.method === 'GET' && url.pathname === '/api/now/table/sys_journal_field') {
        const sysId = /element_id=([^^]+)/.exec(query)?.[1];
        const like = /valueLIKE(.*)$/.exec(query)?.[1] ?? '';
        const hit = records.find((r) => r.sys_id === sysId)?.workNotes.some((n) => n.includes(like));
        return sendJson(res, 200, { result: hit ? [{ sys_id: 'j1' }] : [] });
      }
      if (req.method === 'POST' && url.pathname === '/api/now/identifyreconcile') {
        const items = body.items as Array<{ className: string; values: Record<string, unknown> }>;
        for (const item of items)
          cis.set(`${item.className}:${String(item.values.correlation_id ?? item.values.name)}`, item);
        relations.push(...((body.relations as unknown[]) ?? []));
        return sendJson(res, 200, {
          result: { items: items.map((i) => ({ className: i.className, operation: 'INSERT_OR_UPDATE', sysId: 'ci' })) },
        });
      }
      if (req.method === 'GET' && url.pathname === '/api/now/table/cmdb_ci_appl') {
        const name = /^name=(.*)$/.exec(query)?.[1] ?? '';
        const owner = options.appOwners?.[name];
        return sendJson(res, 200, {
          result: owner ? [{ 'owned_by.email': owner, 'owned_by.user_name': owner.split('@')[0] }] : [],
        });
      }
      sendJson(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
    });
  });
  return { ...server, records, cis, relations, table, approvals };
}
