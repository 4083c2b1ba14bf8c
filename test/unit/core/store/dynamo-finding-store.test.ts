import { EVENT_DAY_SHARDS, SingleTable, eventDayShard, indexKeys } from '@core/store/table';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createFinding } from '@core/finding/merge';
import { DynamoFindingStore, toFindingItem } from '@core/store/dynamo-finding-store';
import { findingWrite } from '@core/finding/write';
import { anObservation } from '@test/support/factories';

const doc = mockClient(DynamoDBDocumentClient);
afterEach(() => doc.reset());

const finding = (n: number) =>
  createFinding(
    anObservation({ fingerprint: `secret:${String(n).padStart(64, '0')}` }),
    new Date('2026-11-01T00:00:00Z'),
    'test',
  ).finding;

describe('DynamoFindingStore retries (mocked DynamoDB: unprocessed items cannot be forced on DynamoDB Local)', () => {
  const store = new DynamoFindingStore(new SingleTable(new DynamoDBClient({ region: 'us-east-1' }), 'closeloop'));

  it('retries UnprocessedKeys of BatchGetItem until every finding is read', async () => {
    const [a, b] = [finding(1), finding(2)];
    doc
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { closeloop: [toFindingItem(a)] },
        UnprocessedKeys: { closeloop: { Keys: [{ pk: `FINDING#${b.id}`, sk: '#FINDING' }] } },
      })
      .resolvesOnce({ Responses: { closeloop: [toFindingItem(b)] } });
    const found = await store.getMany([a.id, b.id]);
    expect([...found.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(doc).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(doc.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems!.closeloop!.Keys).toEqual([
      { pk: `FINDING#${b.id}`, sk: '#FINDING' },
    ]);
  });

  it('reads at most 100 keys per BatchGetItem', async () => {
    doc.on(BatchGetCommand).resolves({ Responses: { closeloop: [] } });
    await store.getMany(Array.from({ length: 250 }, (_, i) => finding(i).id));
    expect(doc.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!.closeloop!.Keys!.length)).toEqual(
      [100, 100, 50],
    );
  });

  it('retries UnprocessedItems of BatchWriteItem for quarantine entries, 25 per call', async () => {
    const entries = Array.from({ length: 30 }, (_, i) => ({
      id: `q${i}`,
      receivedAt: 't',
      file: 'f',
      format: 'gitleaks',
      recordNo: i,
      problems: ['p'],
      redactedRecord: '{}',
    }));
    doc
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { closeloop: [{ PutRequest: { Item: { pk: 'QUARANTINE', sk: 'q0' } } }] } })
      .resolves({});
    await store.quarantine(entries);
    const calls = doc.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!.closeloop!);
    // Two chunks side by side (25 and 5), and the one item left unprocessed sent again.
    expect(calls.map((items) => items.length).sort((a, b) => a - b)).toEqual([1, 5, 25]);
    expect(calls.find((items) => items.length === 1)![0]).toEqual({
      PutRequest: { Item: { pk: 'QUARANTINE', sk: 'q0' } },
    });
    const written = new Set(
      calls.flat().map((r) => (r as { PutRequest: { Item: { sk: string } } }).PutRequest.Item.sk),
    );
    expect(written.size).toBe(30);
  });

  it('reports the finding whose guard failed as a conflict and still commits the others', async () => {
    const [a, b] = [finding(1), finding(2)];
    const writes = [a, b].map((f) => findingWrite({ finding: f, expectedVersion: null, events: [] }));
    doc
      .on(TransactWriteCommand)
      .rejectsOnce(
        new TransactionCanceledException({
          message: 'cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
        }),
      )
      .resolves({});
    expect(await store.commit(writes)).toEqual({ conflicts: [b.id] });
    const retried = doc.commandCalls(TransactWriteCommand)[1]!.args[0].input.TransactItems!;
    expect(retried).toHaveLength(1);
    expect(retried[0]!.Put!.Item!.id).toBe(a.id);
  });
});

describe('audit event index (byTimer EVENTDAY#<day>#<shard>)', () => {
  it("spreads one day's events over every shard, evenly enough, and keeps a finding's events in one shard", () => {
    const ids = Array.from({ length: 8000 }, (_, i) => finding(i).id);
    const counts = new Array<number>(EVENT_DAY_SHARDS).fill(0);
    for (const id of ids) counts[eventDayShard(id)]! += 1;
    // 1,000 expected per shard; a skewed hash would leave one partition with the bulk of a big ingest.
    for (const c of counts) expect(c).toBeGreaterThan(850);
    for (const c of counts) expect(c).toBeLessThan(1150);
    const keys = [1, 2, 3].map((seq) =>
      indexKeys.event({ at: `2026-11-20T10:00:0${seq}.000Z`, findingId: ids[0]!, seq }),
    );
    expect(new Set(keys.map((k) => k.gsi4pk))).toEqual(new Set([`EVENTDAY#2026-11-20#${eventDayShard(ids[0]!)}`]));
    expect(keys.map((k) => k.gsi4sk)).toEqual(
      [1, 2, 3].map((seq) => `2026-11-20T10:00:0${seq}.000Z#${ids[0]}#000000000${seq}`),
    );
  });
});
