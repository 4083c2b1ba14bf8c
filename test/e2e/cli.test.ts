import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPORT_FIXTURE_SECRETS, reportFixture } from '@test/support/fixtures';
import { aCliEnvironment } from '@test/support/cli';
import { deleteStoredEventsAfter, editStoredEvent, storedEvents } from '@test/support/event-items';

const gitleaks = reportFixture('gitleaks-git.json');
const trufflehog = reportFixture('trufflehog-git.jsonl');

describe('closeloop CLI', () => {
  it('init creates the table once and is idempotent', () => {
    const cli = aCliEnvironment();
    expect(cli.run('init')).toMatchObject({ code: 0, stdout: `table ${cli.env.CLOSELOOP_TABLE}: created\n` });
    expect(cli.run('init')).toMatchObject({ code: 0, stdout: `table ${cli.env.CLOSELOOP_TABLE}: already exists\n` });
  });

  it('ingest --json prints the summary contract; a second ingest reports everything unchanged', () => {
    const cli = aCliEnvironment();
    const first = cli.run('ingest', gitleaks, trufflehog, '--json');
    expect(first.code).toBe(0);
    // gitleaks: the orders API key in two commits (created, updated); TruffleHog reports its URI
    // secret twice at the same place (created, unchanged).
    expect(JSON.parse(first.stdout)).toEqual({
      received: 7,
      created: 5,
      updated: 1,
      unchanged: 1,
      skipped: 0,
      rejected: 0,
      errors: [],
    });
    const second = cli.run('ingest', gitleaks, trufflehog, '--json');
    expect(JSON.parse(second.stdout)).toEqual({
      received: 7,
      created: 0,
      updated: 0,
      unchanged: 7,
      skipped: 0,
      rejected: 0,
      errors: [],
    });
  });

  it('findings --json lists findings with the documented fields and no secret', () => {
    const cli = aCliEnvironment();
    cli.run('ingest', gitleaks, trufflehog);
    const out = cli.run('findings', '--json');
    expect(out.code).toBe(0);
    const findings = JSON.parse(out.stdout) as Array<Record<string, unknown>>;
    expect(findings).toHaveLength(5);
    for (const f of findings) {
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining([
          'id',
          'title',
          'severity',
          'status',
          'owner',
          'dueAt',
          'sources',
          'locations',
          'owaspNhi',
          'nistCsf',
        ]),
      );
    }
    expect(findings[0]).toMatchObject({ severity: 'critical', status: 'open' });
    expect(findings).toContainEqual(
      expect.objectContaining({ severity: 'critical', nhiType: 'cloud_access_key', validity: 'active' }),
    );
    for (const secret of REPORT_FIXTURE_SECRETS) expect(out.stdout).not.toContain(secret);
    expect(cli.run('findings', '--status', 'resolved', '--json').stdout.trim()).toBe('[]');
  });

  it('ingest of several reports starts each lifecycle once, knowing every report; an earlier report does not clear what a later one found', () => {
    const cli = aCliEnvironment();
    // Monday's scan of the repository did not see the private key; Tuesday's (the fixture) did.
    const tuesday = reportFixture('gitleaks-many.json');
    const records = JSON.parse(readFileSync(tuesday, 'utf8')) as Array<{ RuleID: string }>;
    const monday = join(cli.home, 'monday.json');
    writeFileSync(monday, JSON.stringify(records.filter((r) => r.RuleID !== 'private-key')));
    expect(records.some((r) => r.RuleID === 'private-key')).toBe(true);
    const out = cli.run('ingest', monday, tuesday);
    expect(out.code).toBe(0);
    const findings = JSON.parse(cli.run('findings', '--json').stdout) as Array<{ id: string; title: string }>;
    expect(out.stdout).toContain(`${findings.length} lifecycle(s) started`);
    for (const { id } of findings) {
      const { events } = JSON.parse(cli.run('show', id, '--json').stdout) as { events: Array<{ action: string }> };
      const actions = events.map((e) => e.action);
      expect(actions.filter((a) => a === 'lifecycle.started')).toHaveLength(1);
      // Started after both reports' records of it: it starts knowing both.
      expect(actions.indexOf('lifecycle.started')).toBeGreaterThan(actions.lastIndexOf('source.added'));
      // Monday's report not reporting the private key is no clean re-scan of a key Tuesday found.
      expect(actions).not.toContain('evidence.recorded');
    }
    const key = findings.find((f) => /private key/i.test(f.title))!;
    expect(JSON.parse(cli.run('show', key.id, '--json').stdout)).toMatchObject({ status: 'open' });
  });

  it('show --json gives the finding and its events; an unknown id fails with one line', () => {
    const cli = aCliEnvironment();
    cli.run('ingest', trufflehog);
    const [first] = JSON.parse(cli.run('findings', '--json').stdout) as Array<{ id: string }>;
    const shown = JSON.parse(cli.run('show', first!.id, '--json').stdout) as {
      id: string;
      events: Array<{ action: string }>;
    };
    expect(shown.id).toBe(first!.id);
    expect(shown.events[0]!.action).toBe('finding.created');
    expect(cli.run('show', 'NHI-0000000000000000')).toMatchObject({
      code: 1,
      stderr: 'closeloop: finding NHI-0000000000000000 not found\n',
    });
  });

  it('exits 2 on a truncated report, names where it broke and writes nothing', () => {
    const cli = aCliEnvironment();
    const truncated = join(cli.home, 'truncated.json');
    writeFileSync(
      truncated,
      '[{"RuleID": "aws-access-token", "StartLine": 1, "File": "a.tf", "Secret": "AKIAYVP4CIPPERUVIFXG"',
    );
    const out = cli.run('ingest', gitleaks, truncated, '--json');
    expect(out).toMatchObject({ code: 2, stdout: '' });
    expect(out.stderr).toBe(
      `closeloop: ${truncated}: it ends before the JSON is complete (line 1); the file looks truncated\n`,
    );
    expect(JSON.parse(cli.run('findings', '--json').stdout)).toEqual([]);
  });

  it('exits 0 when bad records were only quarantined, and lists them redacted', () => {
    const cli = aCliEnvironment();
    const mixed = join(cli.home, 'mixed.json');
    writeFileSync(
      mixed,
      JSON.stringify([
        {
          RuleID: 'aws-access-token',
          StartLine: 'ten',
          File: 'a.tf',
          Secret: 'AKIAYVP4CIPPERUVIFXG',
          Match: 'AKIAYVP4CIPPERUVIFXG',
        },
        { RuleID: 'generic-api-key', StartLine: 2, File: 'b.env', Secret: 'closeloop-e2e-FAKE-secret-000001' },
      ]),
    );
    const out = cli.run('ingest', mixed, '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({
      received: 2,
      created: 1,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      rejected: 1,
      errors: ['mixed.json: record 1: "StartLine" must be a number, got "ten"'],
    });
    const list = cli.run('quarantine', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('mixed.json');
    expect(list.stdout).toContain('"StartLine" must be a number, got "ten"');
    const json = cli.run('quarantine', 'list', '--json').stdout;
    expect(json).not.toContain('AKIAYVP4CIPPERUVIFXG');
    expect(json).toContain('[REDACTED]');
  });

  it('rejects bad arguments with one line and exit 2', () => {
    const cli = aCliEnvironment();
    const format = cli.run('ingest', gitleaks, '--format', 'csv');
    expect(format.code).toBe(2);
    expect(format.stderr.trim()).toBe(
      "error: option '--format <format>' argument 'csv' is invalid. must be one of auto, gitleaks, trufflehog, sarif, github, gitguardian, asff, ocsf, gitlab, detect-secrets, ggshield, noseyparker, trivy",
    );
    expect(cli.run('findings', '--status', 'closed').code).toBe(2);
    expect(cli.run('show', 'not-an-id')).toMatchObject({
      code: 2,
      stderr: 'closeloop: finding id must look like NHI-0123456789ABCDEF, got "not-an-id"\n',
    });
    expect(cli.run('ingest', join(cli.home, 'missing.json'))).toMatchObject({
      code: 2,
      stderr: `closeloop: ${join(cli.home, 'missing.json')}: no such file\n`,
    });
  });

  it('hygiene needs AWS: without endpoints it says so in one line and changes nothing', () => {
    const cli = aCliEnvironment();
    expect(cli.run('hygiene')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'closeloop: credential hygiene reads Secrets Manager and IAM: set AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_IAM (deployed, the stack runs it daily)\n',
    });
    expect(JSON.parse(cli.run('findings', '--json').stdout)).toEqual([]);
  });

  it('forces a format with --format: a gitleaks report read as ASFF is rejected record by record', () => {
    const cli = aCliEnvironment();
    const out = cli.run('ingest', gitleaks, '--format', 'asff', '--json');
    expect(out.code).toBe(0);
    const summary = JSON.parse(out.stdout) as { received: number; rejected: number; errors: string[] };
    expect(summary).toMatchObject({ received: 3, rejected: 3 });
    expect(summary.errors[0]).toMatch(/^gitleaks-git\.json: record 1: "Id" is required$/);
  });
});

describe('npm start (closeloop run) on the embedded default', () => {
  it('starts DynamoDB Local itself, ingests the samples, prints the findings and exits 0', () => {
    const cli = aCliEnvironment({ embedded: true });
    const out = cli.run('run');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('DynamoDB Local (embedded)');
    expect(out.stdout).toMatch(
      /7 findings from 11 records \(1 reported by more than one scanner; 1 rejected into quarantine\)/,
    );
    expect(out.stdout).toMatch(/NHI-[0-9A-F]{16}\s+critical\s+open\s+cloud_access_key/);
    expect(out.stdout).not.toContain('AKIACLOSELOOPFAKE001');
    expect(out.stdout).toContain('Tickets: 7 created in the local tracker');
    // The samples' scenario: an owner asked to accept a risk, an approver agreed.
    expect(out.stdout).toMatch(
      /4 awaiting approval, 2 with their owner, 0 awaiting an exception decision, 1 under an exception/,
    );
    expect(out.stdout).toMatch(
      /Sample scenario: team-payments asked to accept the risk of NHI-[0-9A-F]{16} \(webhook url\) until \d{4}-\d{2}-\d{2}; alice approved\./,
    );
    // The verified AWS key is rotated by the rotation machine, as a dry run: shown, never closing.
    expect(out.stdout).toMatch(
      /Auto-remediation: 1 finding\(s\) rotated by the secret rotation machine \(NHI-[0-9A-F]{16}\); 1 as a dry run \(no AWS endpoint configured\)/,
    );
    // Data persisted under CLOSELOOP_HOME: a second run is all unchanged, and creates no ticket.
    const again = cli.run('run');
    expect(again.stdout).toContain('received 3 · created 0 · updated 0 · unchanged 3');
    expect(again.stdout).toContain('Tickets: 0 created in the local tracker');
    const tickets = JSON.parse(cli.run('tickets', '--json').stdout) as Array<{
      key: string;
      findingId: string;
      assignee: string;
      status: string;
      description: string;
    }>;
    expect(tickets).toHaveLength(7);
    expect(new Set(tickets.map((t) => t.findingId)).size).toBe(7);
    expect(tickets.every((t) => t.status === 'open' && t.assignee.startsWith('team-'))).toBe(true);
    expect(JSON.stringify(tickets)).not.toContain('AKIACLOSELOOPFAKE001');
    const sync = cli.run('sync');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toBe('sync: 0 ticket(s) created, 0 update(s) sent, 0 pending\n');
  });
});

describe('closeloop audit verify', () => {
  it('passes on untouched chains and names every event edited behind its back', async () => {
    const cli = aCliEnvironment();
    cli.run('ingest', reportFixture('trufflehog-git.jsonl'), reportFixture('trufflehog-github.jsonl'));
    expect(cli.run('audit', 'verify')).toMatchObject({
      code: 0,
      stdout:
        // created, and each lifecycle started at ingest
        "audit verify: 3 findings, 33 events, every chain intact, every record's state bound to its chain\n" +
        '  no digest yet: nothing is sealed, so the chains hold only against edits that do not re-chain (`closeloop audit digest` seals them)\n',
    });

    const { localClient } = await import('@local/dynamodb-local');
    const [finding] = JSON.parse(cli.run('findings', '--json').stdout) as Array<{ id: string }>;
    const client = localClient(cli.env.AWS_ENDPOINT_URL_DYNAMODB!);
    await editStoredEvent(client, cli.env.CLOSELOOP_TABLE!, `FINDING#${finding!.id}`, 2, {
      reason: 'nothing happened here',
    });
    client.destroy();
    const broken = cli.run('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      new RegExp(
        `^closeloop: audit verify: 1 problem \\(3 findings, 33 events\\):\\n  finding NHI-[0-9A-F]{16}: event 2 \\(finding\\.updated\\) was altered: its content does not match its hash\\n$`,
      ),
    );
  });

  it('seals the trail with a signed digest; then catches a tail cut and the head fixed, and a state forged without an event', async () => {
    const cli = aCliEnvironment();
    cli.run('ingest', reportFixture('trufflehog-git.jsonl'), reportFixture('trufflehog-github.jsonl'));
    const digest = cli.run('audit', 'digest');
    expect(digest.code).toBe(0);
    expect(digest.stdout).toMatch(
      /^audit digest #1 \(checkpoint\): 3 chain heads sealed, 3 sealed in all; digests\/9999999998-0000000001\.json\n$/,
    );
    const sealed = cli.run('audit', 'verify');
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toContain('  sealed by digest #1 of ');
    expect(sealed.stdout).toContain('  nothing changed since that digest\n');

    const { UpdateItemCommand, GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const { localClient } = await import('@local/dynamodb-local');
    const findings = JSON.parse(cli.run('findings', '--json').stdout) as Array<{ id: string }>;
    const cut = findings[0]!.id;
    const forged = findings[1]!.id;
    const client = localClient(cli.env.AWS_ENDPOINT_URL_DYNAMODB!);
    const TableName = cli.env.CLOSELOOP_TABLE!;
    const [first] = await storedEvents(client, TableName, `FINDING#${cut}`);
    const count = Number(
      (
        await client.send(
          new GetItemCommand({ TableName, Key: { pk: { S: `FINDING#${cut}` }, sk: { S: '#FINDING' } } }),
        )
      ).Item!.eventCount!.N,
    );
    expect(count).toBeGreaterThan(1);
    await deleteStoredEventsAfter(client, TableName, `FINDING#${cut}`, 1);
    expect((await storedEvents(client, TableName, `FINDING#${cut}`)).map((e) => e.seq)).toEqual([1]);
    await client.send(
      new UpdateItemCommand({
        TableName,
        Key: { pk: { S: `FINDING#${cut}` }, sk: { S: '#FINDING' } },
        UpdateExpression: 'SET eventCount = :one, lastEventHash = :h',
        ExpressionAttributeValues: { ':one': { N: '1' }, ':h': { S: first!.hash } },
      }),
    );
    await client.send(
      new UpdateItemCommand({
        TableName,
        Key: { pk: { S: `FINDING#${forged}` }, sk: { S: '#FINDING' } },
        UpdateExpression: 'SET severity = :low',
        ExpressionAttributeValues: { ':low': { S: 'info' } },
      }),
    );
    client.destroy();
    const result = cli.run('audit', 'verify', '--json');
    expect(result.code).toBe(1);
    const problems = (JSON.parse(result.stdout) as { problems: Array<{ id: string; check: string }> }).problems;
    expect(problems.map((p) => `${p.id} ${p.check}`).sort()).toEqual(
      // The cut chain's new head is an event of ingest's first write, which binds no state.
      [`${cut} sealed`, `${cut} state`, `${forged} record`, `${forged} state`].sort(),
    );
    const text = cli.run('audit', 'verify');
    expect(text.stderr).toContain(`  finding ${cut}: digest #1 sealed ${count} events and the chain has 1:`);
  });
});
