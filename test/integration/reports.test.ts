import type { AuditAction } from '@core/audit/actions';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { s3ExportFiles } from '@connectors/aws/s3-export-files';
import { runReportExport, type ReportExportRequest } from '@core/reports/exports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import type { Clock } from '@core/shared/clock';
import { updateFinding } from '@core/finding/update';
import type { Finding } from '@core/finding/model';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { computeReport, REPORT_KINDS } from '@core/reports/reports';
import { renderReport, REPORT_FORMATS } from '@core/reports/render';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { SingleTable } from '@core/store/table';
import { aFreshStore } from '@test/support/dynamo';
import { aGitleaksRecord, aHasher } from '@test/support/factories';
import { handleExportRequest, handleExportStatus, handleReportRequest } from '@connectors/api/reports';
import { editStoredEvent } from '@test/support/event-items';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const iso = (offsetDays: number) => new Date(NOW + offsetDays * DAY).toISOString();

function clockAt(ms: number): Clock & { set(ms: number): void } {
  let now = ms;
  return { now: () => new Date(now), set: (m) => void (now = m) };
}

/**
 * A seeded history with a known answer at a fixed clock: nine findings notified ten days ago,
 * in every state a report distinguishes, and two managed secrets.
 */
async function seededHistory() {
  const { store, client, tableName } = await aFreshStore();
  const clock = clockAt(NOW - 10 * DAY);
  const secrets = Array.from({ length: 9 }, (_, i) => `tok_${String(i).repeat(4)}a7c3e9f1b5d2${i}x`);
  const dir = mkdtempSync(join(tmpdir(), 'closeloop-reports-'));
  const file = join(dir, 'gitleaks.json');
  writeFileSync(
    file,
    JSON.stringify(
      secrets.map((s, i) =>
        aGitleaksRecord({
          Secret: s,
          Match: `KEY=${s}`,
          StartLine: i + 1,
          Fingerprint: `c0ffee:src/app.ts:generic-api-key:${i + 1}`,
        }),
      ),
    ),
  );
  await ingestReportFiles([file], { store, clock, hasher: aHasher() });
  const byLine = new Map((await store.list()).map((f) => [f.locations[0]!.line!, f.id]));
  const set = async (line: number, at: number, change: (f: Finding) => Partial<Finding>) => {
    clock.set(at);
    await updateFinding(store, clock, byLine.get(line)!, (f) => ({
      finding: { ...f, ...change(f) },
      events: [{ actor: 'seed', action: 'finding.updated', reason: `line ${line}` }],
    }));
  };
  const owned = (owner: string, severity: Finding['severity'], dueDays: number) => ({
    owner,
    ownerVia: 'mapping' as const,
    severity,
    dueAt: iso(dueDays),
  });
  await set(1, NOW - 9 * DAY, () => ({ ...owned('team-a', 'critical', -1), status: 'open' })); // overdue
  await set(2, NOW - 9 * DAY, () => ({ ...owned('team-a', 'high', 3), status: 'open' }));
  await set(3, NOW - 9 * DAY, () => ({ ...owned('team-b', 'medium', 20), status: 'awaiting_approval' }));
  await set(4, NOW - 9 * DAY, () => ({
    owner: 'identity-programme',
    ownerVia: 'unowned_queue',
    severity: 'low',
    dueAt: iso(50),
    status: 'open',
  }));
  await set(5, NOW - 8 * DAY, () => ({ ...owned('team-b', 'high', -3), status: 'resolved', closedAt: iso(-8) })); // 2 days, within SLA
  await set(6, NOW - 1 * DAY, () => ({ ...owned('team-a', 'critical', -4), status: 'resolved', closedAt: iso(-1) })); // 9 days, late
  const exception = (until: string) => ({
    requestedBy: 'team-b',
    requestedAt: iso(-5),
    until,
    reason: 'vendor migration, "phase 2", ends soon',
    compensatingControl: 'IP allow-list',
    approvedBy: 'alice',
    approvedAt: iso(-5),
  });
  await set(7, NOW - 5 * DAY, () => ({
    ...owned('team-b', 'medium', 20),
    status: 'risk_accepted',
    exception: exception(iso(20)),
    lifecycle: { startedGeneration: 1, waitingAt: 'ExceptionWait', timerAt: iso(20), timerKind: 'exception_expiry' },
  }));
  await set(8, NOW - 5 * DAY, () => ({
    ...owned('team-a', 'low', 90),
    status: 'risk_accepted',
    exception: exception(iso(100)),
    lifecycle: { startedGeneration: 1, waitingAt: 'ExceptionWait', timerAt: iso(100), timerKind: 'exception_expiry' },
  }));
  // Accepted, then expired while still exposed: the transition the lifecycle's reopen step writes.
  await set(9, NOW - 4 * DAY, () => ({
    ...owned('team-a', 'high', 5),
    status: 'risk_accepted',
    exception: exception(iso(-2)),
  }));
  clock.set(NOW - 2 * DAY);
  await updateFinding(store, clock, byLine.get(9)!, (f, at) => ({
    finding: {
      ...f,
      status: 'reopened',
      dueAt: iso(5),
      exception: undefined,
      expiredException: { ...f.exception!, expiredAt: at },
    },
    events: [
      {
        actor: 'closeloop:lifecycle',
        action: 'finding.reopened',
        from: 'risk_accepted',
        to: 'reopened',
        reason: 'exception expired while still exposed',
      },
    ],
  }));

  const managed = new DynamoManagedSecretStore(new SingleTable(client, tableName));
  const event = (action: AuditAction) => ({ actor: 'aws:secretsmanager', action, reason: 'seed' });
  await managed.record(
    {
      secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:fresh-AbCdEf',
      name: 'app/fresh',
      rotator: 'generated_credential',
      outcome: 'succeeded',
      deliveryId: 'd1',
      event: event('rotation.succeeded'),
    },
    iso(-10),
  );
  await managed.record(
    {
      secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:stale-AbCdEf',
      name: 'app/stale',
      rotator: 'iam_access_key',
      outcome: 'succeeded',
      deliveryId: 'd2',
      event: event('rotation.succeeded'),
    },
    iso(-200),
  );
  await managed.record(
    {
      secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:stale-AbCdEf',
      name: 'app/stale',
      outcome: 'failed',
      deliveryId: 'd3',
      event: event('rotation.failed'),
    },
    iso(-20),
  );
  const report = (kind: (typeof REPORT_KINDS)[number], extra: Partial<Parameters<typeof computeReport>[2]> = {}) =>
    computeReport(kind, new DynamoReportSource(new SingleTable(client, tableName)), {
      now: new Date(NOW),
      policy: DEFAULT_POLICY,
      ...extra,
    });
  return { store, client, tableName, byLine, secrets, report };
}

const summary = (r: { summary: Array<{ label: string; value: unknown }> }) =>
  Object.fromEntries(r.summary.map((s) => [s.label, s.value]));

describe('auditor reports over a seeded history (DynamoDB Local, fixed clock)', () => {
  let h: Awaited<ReturnType<typeof seededHistory>>;
  beforeAll(async () => {
    h = await seededHistory();
  });

  it('sla: open by owner and severity, overdue and breach rate, MTTR by severity, % resolved within SLA', async () => {
    const r = await h.report('sla');
    expect(summary(r)).toEqual({
      'open findings': 5,
      overdue: 1,
      'breach rate (% of open findings overdue)': 20,
      resolved: 2,
      '% resolved within SLA': 50,
    });
    expect(r.sections[0]!.rows).toEqual([
      ['identity-programme', 'low', 1, 0, 0, 0, iso(50).slice(0, 10)],
      ['team-a', 'critical', 1, 1, 0, 100, iso(-1).slice(0, 10)],
      ['team-a', 'high', 2, 0, 2, 0, iso(3).slice(0, 10)],
      ['team-b', 'medium', 1, 0, 0, 0, iso(20).slice(0, 10)],
    ]);
    expect(r.sections[1]!.rows).toEqual([
      ['critical', 1, 9, 0],
      ['high', 1, 2, 100],
    ]);
    expect(r.sections[2]!.rows.map((row) => row[0])).toEqual([h.byLine.get(1)]);
    // Owner-scoped: one owner's open work through byOwnerDue; --since narrows what was resolved.
    const mine = await h.report('sla', { owner: 'team-a', since: new Date(iso(-3)) });
    expect(summary(mine)).toMatchObject({
      'open findings': 3,
      overdue: 1,
      'resolved since': 1,
      '% resolved within SLA': 0,
    });
  });

  it('ownership: % with a named owner, the unowned queue, findings per owner and how the owner was found', async () => {
    const r = await h.report('ownership');
    expect(summary(r)).toEqual({
      'open findings': 5,
      'with a named owner': 4,
      '% with a named owner': 80,
      'in the unowned queue (identity-programme)': 1,
    });
    expect(r.sections[0]!.rows).toEqual([
      ['team-a', 3, 0, 0, 3, 0],
      ['identity-programme', 1, 0, 0, 0, 1],
      ['team-b', 1, 0, 0, 1, 0],
    ]);
    expect(r.sections[1]!.rows).toEqual([
      [h.byLine.get(4), 'low', expect.any(String), iso(50).slice(0, 10), expect.any(String)],
    ]);
  });

  it('exceptions: active with requester, approver, reason and expiry; expiring within 30 days; expired and reopened', async () => {
    const r = await h.report('exceptions');
    expect(summary(r)).toEqual({
      'active risk acceptances': 2,
      'expiring within 30 days': 1,
      'expired and reopened': 1,
    });
    expect(r.sections[0]!.rows).toEqual([
      [
        h.byLine.get(7),
        'medium',
        'team-b',
        'team-b',
        'alice',
        'vendor migration, "phase 2", ends soon',
        'IP allow-list',
        iso(20).slice(0, 10),
        20,
      ],
      [
        h.byLine.get(8),
        'low',
        'team-a',
        'team-b',
        'alice',
        'vendor migration, "phase 2", ends soon',
        'IP allow-list',
        iso(100).slice(0, 10),
        100,
      ],
    ]);
    expect(r.sections[1]!.rows).toEqual([[h.byLine.get(7), 'team-b', iso(20).slice(0, 10), 20]]);
    expect(r.sections[2]!.rows).toEqual([
      [h.byLine.get(9), 'team-a', 'team-b', 'alice', iso(-2).slice(0, 10), iso(5).slice(0, 10)],
    ]);
    // One owner's: their ACCEPTED# partition and their expired exceptions; --since narrows the expired ones.
    expect(summary(await h.report('exceptions', { owner: 'team-b' }))).toEqual({
      'active risk acceptances': 1,
      'expiring within 30 days': 1,
      'expired and reopened': 0,
    });
    expect(summary(await h.report('exceptions', { owner: 'team-a' }))).toEqual({
      'active risk acceptances': 1,
      'expiring within 30 days': 0,
      'expired and reopened': 1,
    });
    expect(summary(await h.report('exceptions', { since: new Date(iso(-1)) }))).toMatchObject({
      'expired and reopened since': 0,
    });
  });

  it('rotation: managed secrets, % rotated within the policy window, failures, leaked secrets still valid 5 days after notification', async () => {
    const r = await h.report('rotation');
    expect(summary(r)).toEqual({
      'managed secrets': 2,
      '% rotated within the policy window (90 days)': 50,
      'failed or abandoned rotations': 1,
      'findings remediated by a rotation': 0,
      'leaked secrets notified 5+ days ago': 9,
      '% still valid 5 days after notification (industry: 91.6% after 5 days)': 88.9,
    });
    expect(r.sections[0]!.rows).toEqual([
      ['app/stale', 'iam_access_key', iso(-200).slice(0, 10), 200, 'no', 1, 1, 'failed'],
      ['app/fresh', 'generated_credential', iso(-10).slice(0, 10), 10, 'yes', 1, 0, 'succeeded'],
    ]);
    expect(r.sections[1]!.rows.map((row) => row[0])).not.toContain(h.byLine.get(5));
  });

  it('standards: counts by OWASP NHI id and NIST CSF id, open and closed', async () => {
    const r = await h.report('standards');
    expect(summary(r)).toEqual({ findings: 9, 'open (incl. accepted risks)': 7, closed: 2 });
    expect(r.sections[0]!.rows).toContainEqual(['NHI2', 7, 2]);
    expect(r.sections[0]!.rows).toContainEqual(['NHI7', 0, 0]);
    expect(r.sections[0]!.rows).toHaveLength(10);
    expect(r.sections[1]!.rows).toContainEqual(['PR.AA-01', 7, 2]);
    // One owner's findings: open work, accepted risks and closed findings (lines 1, 2, 6, 8, 9 are team-a's).
    const mine = await h.report('standards', { owner: 'team-a' });
    expect(summary(mine)).toEqual({ findings: 5, 'open (incl. accepted risks)': 4, closed: 1 });
    expect(mine.title).toBe('Standards: OWASP NHI Top 10 (2025) and NIST CSF 2.0, findings of team-a');
    expect(summary(await h.report('rotation', { owner: 'team-a' }))).toMatchObject({
      'managed secrets': 2,
      'leaked secrets notified 5+ days ago': 5,
      '% still valid 5 days after notification (industry: 91.6% after 5 days)': 100,
    });
  });

  it("audit: a finding's trail or a period's events, with the chain verified; an edited event is named", async () => {
    const one = await h.report('audit', { findingId: h.byLine.get(5)! });
    expect(one.verification).toEqual({ ok: true, chains: 1, events: 2 });
    expect(one.sections[0]!.rows.map((row) => row[4])).toEqual(['finding.created', 'finding.updated']);
    const period = await h.report('audit', { since: new Date(iso(-6)), actor: 'seed' });
    // Since six days ago, by time: lines 7 and 8 (same instant, by id), then 9, then 6; not 1-5 (earlier).
    // (Line 9's expiry was written by closeloop:lifecycle, not by the seed.)
    const ids = period.sections[0]!.rows.map((row) => row[1]);
    expect(ids.slice(0, 2).sort()).toEqual([h.byLine.get(7), h.byLine.get(8)].sort());
    expect(ids.slice(2)).toEqual([h.byLine.get(9), h.byLine.get(6)]);
    expect(period.verification).toMatchObject({ ok: true, chains: 4 });

    await editStoredEvent(h.client, h.tableName, `FINDING#${h.byLine.get(9)}`, 2, { reason: 'nothing to see' });
    const tampered = await h.report('audit', { since: new Date(iso(-6)) });
    expect(tampered.verification).toMatchObject({ ok: false, firstBreak: { findingId: h.byLine.get(9), seq: 2 } });
    expect(renderReport(tampered, 'table')).toContain(`BROKEN at ${h.byLine.get(9)} event 2`);
  });

  it('reads only through Queries, and no report in any format contains a secret', async () => {
    for (const kind of REPORT_KINDS) {
      const r = await h.report(kind, kind === 'audit' ? { findingId: h.byLine.get(1)! } : {});
      expect(r.reads!.requests).toBeGreaterThan(0);
      for (const format of REPORT_FORMATS) {
        const out = renderReport(r, format);
        for (const secret of h.secrets) expect(out).not.toContain(secret);
        expect(out).not.toMatch(/[0-9a-f]{64}/); // no secret HMAC either
      }
    }
  });

  it('exceptions: an expired exception stays in the report after its finding moves on (fixed later)', async () => {
    const clock = clockAt(NOW - DAY);
    await updateFinding(h.store, clock, h.byLine.get(9)!, (f, at) => ({
      finding: { ...f, status: 'resolved', closedAt: at },
      events: [
        {
          actor: 'closeloop:lifecycle',
          action: 'finding.resolved',
          from: 'reopened',
          to: 'resolved',
          reason: 'key deactivated',
        },
      ],
    }));
    const r = await h.report('exceptions');
    expect(summary(r)).toMatchObject({ 'expired and reopened': 1 });
    expect(r.sections[2]!.rows.map((row) => row[0])).toEqual([h.byLine.get(9)]);
  });
});

describe('report API (GET /reports/{kind}, the same code as the CLI)', () => {
  let h: Awaited<ReturnType<typeof seededHistory>>;
  beforeAll(async () => {
    h = await seededHistory();
  });
  const cursorKey = Buffer.alloc(32, 9);
  const deps = () => ({
    source: () => new DynamoReportSource(new SingleTable(h.client, h.tableName)),
    policy: DEFAULT_POLICY,
    clock: { now: () => new Date(NOW) },
    cursorKey: () => Promise.resolve(cursorKey),
  });
  const get = (kind: string, query: Record<string, string> = {}) =>
    handleReportRequest({ pathParameters: { kind }, queryStringParameters: query }, deps());

  it("pages through the main table with a cursor that keeps the first page's instant", async () => {
    const first = await get('audit', { since: iso(-11), limit: '5' });
    expect(first.statusCode).toBe(200);
    const one = JSON.parse(first.body) as {
      report: { generatedAt: string; sections: Array<{ rows: unknown[][] }> };
      page: { totalRows: number; nextCursor?: string };
    };
    expect(one.report.sections[0]!.rows).toHaveLength(5);
    expect(one.page.totalRows).toBe(20); // nine findings created, nine seeded, one exception expired, one scheduled rotation of a managed secret
    const seen = [...one.report.sections[0]!.rows];
    let cursor = one.page.nextCursor;
    while (cursor) {
      const next = JSON.parse((await get('audit', { since: iso(-11), limit: '5', cursor })).body) as typeof one;
      expect(next.report.generatedAt).toBe(one.report.generatedAt);
      seen.push(...next.report.sections[0]!.rows);
      cursor = next.page.nextCursor;
    }
    expect(seen).toHaveLength(20);
    expect(new Set(seen.map((r) => `${String(r[1])}#${String(r[2])}`)).size).toBe(20);
  });

  it('CSV and HTML come whole, as a download; bad parameters name the field (400); an unknown report is 404', async () => {
    const csv = await get('exceptions', { format: 'csv' });
    expect(csv.headers).toMatchObject({
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="closeloop-exceptions-2026-11-20.csv"',
    });
    expect(csv.body.split('\r\n')[0]).toBe(
      'finding,severity,owner,requested by,approved by,reason,compensating control,expires,days left',
    );
    expect(csv.body).toContain('"vendor migration, ""phase 2"", ends soon"');
    expect((await get('standards', { format: 'html' })).body).toMatch(/^<!doctype html>/);
    expect(await get('sla', { since: 'last week' })).toMatchObject({
      statusCode: 400,
      body: JSON.stringify({ message: '"since" must be an ISO-8601 date' }),
    });
    expect(await get('sla', { limit: '0' })).toMatchObject({ statusCode: 400 });
    expect(await get('sla', { cursor: 'bogus' })).toMatchObject({
      statusCode: 400,
      body: JSON.stringify({ message: '"cursor" is not a cursor this API returned for this report' }),
    });
    expect((await get('secrets')).statusCode).toBe(404);
  });

  it('takes only cursors it signed for the same report: a caller cannot choose the instant a page is computed at', async () => {
    const first = JSON.parse((await get('audit', { since: iso(-11), limit: '5' })).body) as {
      page: { nextCursor: string };
    };
    const cursor = first.page.nextCursor;
    const [payload, signature] = cursor.split('.') as [string, string];
    const refused = {
      statusCode: 400,
      body: JSON.stringify({ message: '"cursor" is not a cursor this API returned for this report' }),
    };
    // The first release's cursor: base64url JSON naming any instant ("as of 2030").
    const unsigned = Buffer.from(JSON.stringify({ at: '2030-01-01T00:00:00.000Z', offset: 0 })).toString('base64url');
    expect(await get('audit', { since: iso(-11), cursor: unsigned })).toMatchObject(refused);
    // The signed payload with its instant moved, under the old signature.
    const moved = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), at: '2030-01-01T00:00:00.000Z' }),
    ).toString('base64url');
    expect(await get('audit', { since: iso(-11), cursor: `${moved}.${signature}` })).toMatchObject(refused);
    // Signed by another key (another deployment).
    const other = await handleReportRequest(
      { pathParameters: { kind: 'audit' }, queryStringParameters: { since: iso(-11), limit: '5' } },
      { ...deps(), cursorKey: () => Promise.resolve(Buffer.alloc(32, 1)) },
    );
    const foreign = (JSON.parse(other.body) as { page: { nextCursor: string } }).page.nextCursor;
    expect(await get('audit', { since: iso(-11), cursor: foreign })).toMatchObject(refused);
    // A cursor of one report does not page another (other parameters, other kind).
    expect(await get('audit', { since: iso(-5), cursor })).toMatchObject(refused);
    expect(await get('sla', { cursor })).toMatchObject(refused);
    expect((await get('audit', { since: iso(-11), limit: '5', cursor })).statusCode).toBe(200);
  });

  it('answers 404 for the audit trail of a finding the table does not hold', async () => {
    expect(await get('audit', { finding: 'NHI-00000000000000FF' })).toMatchObject({
      statusCode: 404,
      body: JSON.stringify({ message: 'no finding NHI-00000000000000FF' }),
    });
  });
});

describe('report exports (POST /reports/{kind}/exports, GET /reports/exports/{id}; S3 as a stateful aws-sdk-client-mock fake)', () => {
  let h: Awaited<ReturnType<typeof seededHistory>>;
  const objects = new Map<string, { body: string; contentType?: string }>();
  const s3 = mockClient(S3Client);
  const started: ReportExportRequest[] = [];
  beforeAll(async () => {
    h = await seededHistory();
    s3.on(PutObjectCommand).callsFake((i: { Bucket: string; Key: string; Body: string; ContentType?: string }) => {
      objects.set(`${i.Bucket}/${i.Key}`, { body: i.Body, ...(i.ContentType ? { contentType: i.ContentType } : {}) });
      return {};
    });
    s3.on(GetObjectCommand).callsFake((i: { Bucket: string; Key: string }) => {
      const o = objects.get(`${i.Bucket}/${i.Key}`);
      if (!o) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return { Body: sdkStreamMixin(Readable.from([Buffer.from(o.body)])) };
    });
  });
  afterAll(() => s3.restore());
  const files = s3ExportFiles(
    new S3Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAEXPORTTEST000000', secretAccessKey: 'export-test-signing-key' },
    }),
    'closeloop-exports',
  );
  const deps = {
    files,
    clock: { now: () => new Date(NOW) },
    start: async (request: ReportExportRequest) => void started.push(request),
  };
  const worker = (request: unknown) =>
    runReportExport(request, {
      source: new DynamoReportSource(new SingleTable(h.client, h.tableName)),
      policy: DEFAULT_POLICY,
      files,
      now: () => new Date(NOW + 60_000),
    });

  it('records the request, starts the worker, and is pending until the worker has written the file; then a signed link, size, SHA-256 and rows', async () => {
    const asked = await handleExportRequest(
      {
        pathParameters: { kind: 'sla' },
        queryStringParameters: { format: 'csv', owner: 'team-a', since: '2026-11-01' },
      },
      'auditor-jane',
      deps,
    );
    expect(asked.statusCode).toBe(202);
    const { id, statusPath } = JSON.parse(asked.body) as { id: string; statusPath: string };
    expect(asked.headers).toMatchObject({ location: statusPath });
    expect(started.at(-1)).toEqual({
      id,
      kind: 'sla',
      format: 'csv',
      at: new Date(NOW).toISOString(),
      requestedBy: 'auditor-jane',
      parameters: { owner: 'team-a', since: '2026-11-01T00:00:00.000Z' },
    });
    expect(JSON.parse((await handleExportStatus(id, deps)).body)).toMatchObject({
      id,
      status: 'pending',
      request: { kind: 'sla' },
    });

    expect(await worker(started.at(-1))).toMatchObject({ status: 'done', rows: 2 });
    const status = JSON.parse((await handleExportStatus(id, deps)).body) as {
      status: string;
      file: string;
      bytes: number;
      sha256: string;
      downloadUrl: string;
    };
    const stored = objects.get(`closeloop-exports/${status.file}`)!;
    // The very report the synchronous API gives for the same question at the same instant.
    const direct = await handleReportRequest(
      {
        pathParameters: { kind: 'sla' },
        queryStringParameters: { format: 'csv', owner: 'team-a', since: '2026-11-01' },
      },
      {
        source: () => new DynamoReportSource(new SingleTable(h.client, h.tableName)),
        policy: DEFAULT_POLICY,
        clock: { now: () => new Date(NOW) },
        cursorKey: () => Promise.resolve(Buffer.alloc(32)),
      },
    );
    expect(stored).toEqual({ body: direct.body, contentType: 'text/csv; charset=utf-8' });
    expect(status).toMatchObject({
      status: 'done',
      file: `exports/${id}/closeloop-sla-2026-11-20.csv`,
      bytes: Buffer.byteLength(direct.body),
      sha256: createHash('sha256').update(direct.body).digest('hex'),
    });
    const link = new URL(status.downloadUrl);
    expect(link.hostname).toBe('closeloop-exports.s3.eu-west-1.amazonaws.com');
    expect(link.pathname).toBe(`/${status.file}`);
    expect(link.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(link.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(link.searchParams.get('response-content-disposition')).toBe(
      'attachment; filename="closeloop-sla-2026-11-20.csv"',
    );
  });

  it('a report that cannot be computed is recorded as failed with the reason; a store failure throws so the worker is retried', async () => {
    const asked = await handleExportRequest(
      { pathParameters: { kind: 'audit' }, queryStringParameters: { format: 'json', finding: 'NHI-00000000000000FF' } },
      'auditor-jane',
      deps,
    );
    const { id } = JSON.parse(asked.body) as { id: string };
    expect(await worker(started.at(-1))).toMatchObject({ status: 'failed', error: 'no finding NHI-00000000000000FF' });
    expect(JSON.parse((await handleExportStatus(id, deps)).body)).toMatchObject({
      status: 'failed',
      error: 'no finding NHI-00000000000000FF',
    });
    expect(JSON.parse((await handleExportStatus(id, deps)).body).downloadUrl).toBeUndefined();

    const broken = { ...started.at(-1)!, id: '6f1c2b3a-0000-4000-8000-0000000000aa' };
    await expect(
      runReportExport(broken, {
        source: new DynamoReportSource(new SingleTable(h.client, 'no-such-table')),
        policy: DEFAULT_POLICY,
        files,
        now: () => new Date(NOW),
      }),
    ).rejects.toThrow(/non-existent table|ResourceNotFound/);
    expect(objects.has(`closeloop-exports/exports/${broken.id}/result.json`)).toBe(false);
  });

  it('refuses what it cannot do: unknown report 404, bad parameters 400 naming the field, table format 400, unknown or malformed export id 404', async () => {
    expect(
      (await handleExportRequest({ pathParameters: { kind: 'secrets' }, queryStringParameters: {} }, 'x', deps))
        .statusCode,
    ).toBe(404);
    expect(
      await handleExportRequest(
        { pathParameters: { kind: 'sla' }, queryStringParameters: { since: 'yesterday' } },
        'x',
        deps,
      ),
    ).toMatchObject({ statusCode: 400, body: JSON.stringify({ message: '"since" must be an ISO-8601 date' }) });
    expect(
      (
        await handleExportRequest(
          { pathParameters: { kind: 'sla' }, queryStringParameters: { format: 'table' } },
          'x',
          deps,
        )
      ).statusCode,
    ).toBe(400);
    expect(await handleExportStatus('7d0e8c1a-0000-4000-8000-000000000000', deps)).toMatchObject({
      statusCode: 404,
      body: JSON.stringify({ message: 'no report export 7d0e8c1a-0000-4000-8000-000000000000' }),
    });
    expect((await handleExportStatus('../../etc/passwd', deps)).statusCode).toBe(404);
    await expect(worker({ id: 'not-a-uuid', kind: 'sla' })).rejects.toThrow(/id/);
  });
});
