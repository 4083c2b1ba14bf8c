import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { GroupCommit } from '@core/store/group-commit';
import { SingleTable } from '@core/store/table';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { updateFinding } from '@core/finding/update';
import { verifyChain } from '@core/audit/chain';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { aGitleaksRecord, aHasher } from '@test/support/factories';
import { aFreshStore } from '@test/support/dynamo';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedClock } from '@core/shared/clock';

/**
 * Group commit (core/store/group-commit.ts) against DynamoDB Local: what each caller sees must be
 * what it would have seen with its own request, while concurrent requests go out merged.
 */
async function aGroup() {
  const fresh = await aFreshStore();
  const doc = DynamoDBDocumentClient.from(fresh.client, { marshallOptions: { removeUndefinedValues: true } });
  const sent: string[] = [];
  const raw = {
    send: ((command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return (doc.send as (c: unknown) => Promise<unknown>)(command);
    }) as DynamoDBDocumentClient['send'],
  };
  const group = new GroupCommit(raw);
  const send = (command: unknown) => group.send(command) as Promise<Record<string, unknown>>;
  const direct = (command: unknown) => (doc.send as (c: unknown) => Promise<Record<string, unknown>>)(command);
  const item = (n: number, extra: Record<string, unknown> = {}) => ({ pk: `P#${n}`, sk: 'S', n, ...extra });
  return { ...fresh, doc, sent, send, direct, item, table: fresh.tableName };
}

describe('group commit', () => {
  it('answers each concurrent read with its own item, absent ones included, from one BatchGetItem', async () => {
    const g = await aGroup();
    for (let i = 0; i < 30; i += 2) await g.direct(new PutCommand({ TableName: g.table, Item: g.item(i) }));
    g.sent.length = 0;
    const keys = [...Array.from({ length: 30 }, (_, i) => i), 4];
    const got = await Promise.all(
      keys.map((i) =>
        g.send(new GetCommand({ TableName: g.table, Key: { pk: `P#${i}`, sk: 'S' }, ConsistentRead: true })),
      ),
    );
    expect(got.map((o) => (o.Item as { n?: number } | undefined)?.n)).toEqual(
      keys.map((i) => (i % 2 === 0 ? i : undefined)),
    );
    expect(got[4]!.Item).not.toBe(got[30]!.Item); // two readers of one item never share an object
    expect(g.sent).toEqual(['BatchGetCommand']);
  });

  it('commits concurrent writes in one transaction; a failed condition fails only its own caller, as alone', async () => {
    const g = await aGroup();
    await g.direct(new PutCommand({ TableName: g.table, Item: g.item(1, { v: 1 }) }));
    g.sent.length = 0;
    const writes = [
      g.send(new PutCommand({ TableName: g.table, Item: g.item(2) })),
      // Fails: the item exists.
      g.send(
        new PutCommand({
          TableName: g.table,
          Item: g.item(1, { v: 99 }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      g.send(
        new UpdateCommand({
          TableName: g.table,
          Key: { pk: 'P#3', sk: 'S' },
          UpdateExpression: 'SET v = :v',
          ExpressionAttributeValues: { ':v': 3 },
        }),
      ),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConditionalCheckFailedException);
    const read = async (n: number) =>
      (await g.direct(new GetCommand({ TableName: g.table, Key: { pk: `P#${n}`, sk: 'S' }, ConsistentRead: true })))
        .Item;
    expect(await read(1)).toMatchObject({ v: 1 });
    expect(await read(2)).toMatchObject({ n: 2 });
    expect(await read(3)).toMatchObject({ v: 3 });
    // One merged call, cancelled by the failed condition; then the two others again, merged.
    expect(g.sent).toEqual(['TransactWriteCommand', 'TransactWriteCommand']);
  });

  it("keeps a caller's own transaction atomic, and gives it its own cancellation reasons", async () => {
    const g = await aGroup();
    await g.direct(new PutCommand({ TableName: g.table, Item: g.item(5) }));
    const mine = g.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: g.table, Item: g.item(6) } },
          { Put: { TableName: g.table, Item: g.item(5, { v: 2 }), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    const theirs = g.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: g.table, Item: g.item(7) } },
          { Put: { TableName: g.table, Item: g.item(8) } },
        ],
      }),
    );
    const [a, b] = await Promise.allSettled([mine, theirs]);
    expect(b.status).toBe('fulfilled');
    const err = (a as PromiseRejectedResult).reason as TransactionCanceledException;
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect(err.CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    const exists = async (n: number) =>
      Boolean(
        (await g.direct(new GetCommand({ TableName: g.table, Key: { pk: `P#${n}`, sk: 'S' }, ConsistentRead: true })))
          .Item,
      );
    // Nothing of the cancelled transaction was written; all of the other one was.
    expect([await exists(6), await exists(7), await exists(8)]).toEqual([false, true, true]);
  });

  it('applies writes of one item in the order they were issued, never in one call', async () => {
    const g = await aGroup();
    const key = { pk: 'P#9', sk: 'S' };
    const writes = [1, 2, 3, 4].map((v) =>
      g.send(
        new UpdateCommand({
          TableName: g.table,
          Key: key,
          UpdateExpression: 'SET v = :v, seen = list_append(if_not_exists(seen, :empty), :one)',
          ExpressionAttributeValues: { ':v': v, ':one': [v], ':empty': [] },
        }),
      ),
    );
    await Promise.all(writes);
    const out = await g.direct(new GetCommand({ TableName: g.table, Key: key, ConsistentRead: true }));
    expect(out.Item).toMatchObject({ v: 4, seen: [1, 2, 3, 4] });
  });

  it("lets one bad request fail alone, with DynamoDB's own error, while the others commit", async () => {
    const g = await aGroup();
    const outcomes = await Promise.allSettled([
      g.send(new PutCommand({ TableName: g.table, Item: g.item(10) })),
      g.send(new PutCommand({ TableName: g.table, Item: g.item(11, { big: 'x'.repeat(410 * 1024) }) })),
      g.send(new PutCommand({ TableName: g.table, Item: g.item(12) })),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/size/i);
  });

  it('sends what a merge could change straight through (ReturnValues, projections)', async () => {
    const g = await aGroup();
    const out = await g.send(
      new UpdateCommand({
        TableName: g.table,
        Key: { pk: 'P#13', sk: 'S' },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    expect(out.Attributes).toEqual({ n: 1 });
    expect(g.sent).toEqual(['UpdateCommand']);
  });

  it('keeps every audit chain intact when many findings are updated side by side through it', async () => {
    const fresh = await aFreshStore();
    const table = new SingleTable(fresh.client, fresh.tableName, { groupCommit: {} });
    const store = new DynamoFindingStore(table);
    const clock = fixedClock('2026-11-01T00:00:00.000Z');
    const dir = mkdtempSync(join(tmpdir(), 'closeloop-group-'));
    const file = join(dir, 'gitleaks.json');
    writeFileSync(
      file,
      JSON.stringify(
        Array.from({ length: 40 }, (_, i) =>
          aGitleaksRecord({ File: `f${i}.env`, Secret: `closeloop_FAKE_group_${i}_0123456789` }),
        ),
      ),
    );
    await ingestReportFiles([file], { store, clock, hasher: aHasher() });
    const findings = await store.list();
    expect(findings).toHaveLength(40);
    // Three rounds of concurrent updates per finding, the rounds of one finding racing each other.
    await Promise.all(
      findings.flatMap((f) =>
        [1, 2, 3].map((round) =>
          updateFinding(store, clock, f.id, (current) => ({
            finding: { ...current, title: `${current.title.split(' #')[0]} #${round}` },
            events: [{ actor: 'test', action: 'owner.assigned', to: `team-${round}`, reason: `round ${round}` }],
          })),
        ),
      ),
    );
    for (const f of findings) {
      const events = await store.events(f.id);
      expect(events.filter((e) => e.action === 'owner.assigned')).toHaveLength(3);
      expect(verifyChain(events).ok).toBe(true);
      expect((await store.get(f.id))!.version).toBe(f.version + 3);
    }
  });
});
