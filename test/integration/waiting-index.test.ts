import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { createFinding } from '@core/finding/merge';
import type { Finding } from '@core/finding/model';
import type { FindingStore } from '@core/finding/ports';
import { accountScope, waitScope, type WaitingEntry } from '@core/finding/waiting';
import { DynamoFindingStore, toFindingItem } from '@core/store/dynamo-finding-store';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { ensureTable } from '@core/store/ensure-table';
import { GSI, SingleTable, createTableInput, keys } from '@core/store/table';
import { aFreshStore } from '../support/dynamo';
import { anObservation } from '../support/factories';

const at = new Date('2026-11-01T00:00:00Z');
let n = 0;

/** A finding whose lifecycle waits (or not) for its owner's fix, on `asset`, reported by `scanner`. */
function aFinding(
  asset: Finding['asset'],
  scanner: string,
  overrides: Partial<Finding> = { status: 'open', lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix' } },
): Finding {
  const hash = String(++n).padStart(64, '0');
  const observation = anObservation({
    fingerprint: `secret:${hash}`,
    secretHash: hash,
    asset,
    source: { ...anObservation().source, scanner, scannerId: `id-${n}` },
  });
  return { ...createFinding(observation, at, 'test').finding, ...overrides };
}

const created = (finding: Finding) => ({
  finding,
  expectedVersion: null,
  events: [],
  aliases: [],
  outbox: [],
  notices: [],
  history: [],
});

const everything = () => true;
const ids = (findings: Finding[]) => findings.map((f) => f.id).sort();

describe('the byScope index: findings waiting for their owner, by the scope a scan covers', () => {
  it("holds exactly the waiting findings, in their scope's partition, and drops them when they stop waiting", async () => {
    const { store } = await aFreshStore();
    const repo = aFinding({ type: 'repository', id: 'github.com/acme/api' }, 'gitleaks');
    const otherRepo = aFinding({ type: 'repository', id: 'github.com/acme/web' }, 'gitleaks');
    const role = aFinding(
      { type: 'aws_resource', id: 'arn:aws:iam::111122223333:role/app', account: '111122223333' },
      'prowler',
    );
    const user = aFinding(
      { type: 'aws_resource', id: 'arn:aws:iam::111122223333:user/ci', account: '111122223333' },
      'closeloop',
    );
    const approval = aFinding({ type: 'repository', id: 'github.com/acme/api' }, 'gitleaks', {
      status: 'awaiting_approval',
      lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval' },
    });
    const unstarted = aFinding({ type: 'repository', id: 'github.com/acme/api' }, 'gitleaks', { status: 'open' });
    expect(await store.commit([repo, otherRepo, role, user, approval, unstarted].map(created))).toEqual({
      conflicts: [],
    });

    expect(ids(await store.waitingForOwner([waitScope(repo.asset)], everything))).toEqual([repo.id]);
    expect(ids(await store.waitingForOwner([accountScope('111122223333')], everything))).toEqual(ids([role, user]));
    expect(ids(await store.waitingForOwner([waitScope(repo.asset), waitScope(otherRepo.asset)], everything))).toEqual(
      ids([repo, otherRepo]),
    );
    expect(await store.waitingForOwner([accountScope('444455556666')], everything)).toEqual([]);

    // What the index projects is enough to choose: only the chosen are read, and in full.
    const seen: WaitingEntry[] = [];
    const chosen = await store.waitingForOwner([accountScope('111122223333')], (entry) => {
      seen.push(entry);
      return entry.scanners.includes('closeloop');
    });
    expect(seen.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: role.id, assetId: role.asset.id, scanners: ['prowler'] },
        { id: user.id, assetId: user.asset.id, scanners: ['closeloop'] },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(chosen).toEqual([user]);

    // Resolved: out of the index.
    const resolved = {
      ...repo,
      status: 'resolved' as const,
      lifecycle: { startedGeneration: 1 },
      version: repo.version + 1,
    };
    expect(await store.commit([{ ...created(resolved), expectedVersion: repo.version }])).toEqual({ conflicts: [] });
    expect(await store.waitingForOwner([waitScope(repo.asset)], everything)).toEqual([]);
  });

  it('keys an asset id too long for an index key by its hash', async () => {
    const { store } = await aFreshStore();
    const long = aFinding({ type: 'container_image', id: `registry.example.com/${'x'.repeat(3000)}:1` }, 'trivy');
    expect(waitScope(long.asset)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await store.commit([created(long)])).toEqual({ conflicts: [] });
    expect(ids(await store.waitingForOwner([waitScope(long.asset)], everything))).toEqual([long.id]);
  });

  it('a table an earlier version made gets the index from ensureTable, and the first reader fills it once', async () => {
    const { client } = await aFreshStore();
    const tableName = `old-${randomUUID()}`;
    const old = createTableInput(tableName);
    await client.send(
      new CreateTableCommand({
        ...old,
        GlobalSecondaryIndexes: old.GlobalSecondaryIndexes.filter((i) => i.IndexName !== GSI.byScope.name),
        AttributeDefinitions: old.AttributeDefinitions.filter((a) => !a.AttributeName.startsWith('gsi5')),
      }),
    );
    const table = new SingleTable(client, tableName);
    // Written by the earlier version: a waiting finding without byScope's keys, and one not waiting.
    const legacyItem = (finding: Finding) => {
      const { gsi5pk: _pk, gsi5sk: _sk, waitAsset: _asset, waitScanners: _scanners, ...item } = toFindingItem(finding);
      return item;
    };
    const waiting = aFinding({ type: 'repository', id: 'github.com/acme/api' }, 'gitleaks');
    const parked = aFinding({ type: 'repository', id: 'github.com/acme/api' }, 'gitleaks', {
      status: 'open',
      lifecycle: { startedGeneration: 1 }, // running, not waiting
    });
    for (const f of [waiting, parked])
      await table.doc.send(new PutCommand({ TableName: tableName, Item: legacyItem(f) }));

    expect(await ensureTable(client, tableName)).toBe('updated');
    const described = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table!;
    expect(described.GlobalSecondaryIndexes?.find((i) => i.IndexName === GSI.byScope.name)).toMatchObject({
      IndexStatus: 'ACTIVE',
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['waitAsset', 'waitScanners'] },
    });
    expect(await ensureTable(client, tableName)).toBe('exists');

    // `audit verify` does not take the keys an unfilled index lacks for hiding: nobody reads it yet.
    const trail = new DynamoAuditTrail(table);
    const problems = async (id: string) =>
      (await trail.records()).chains.find((c) => c.kind === 'finding' && c.id === id)!.problems;
    expect(await problems(waiting.id)).toEqual([]);

    const store: FindingStore = new DynamoFindingStore(table);
    expect(ids(await store.waitingForOwner([waitScope(waiting.asset)], everything))).toEqual([waiting.id]);
    const item = async (key: { pk: string; sk: string }) =>
      (await table.doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    // The fill set the keys without a new version (it is not a change of the finding), and said it is done.
    expect(await item(keys.finding(waiting.id))).toMatchObject({
      gsi5pk: `WAITING#${waitScope(waiting.asset)}`,
      version: waiting.version,
    });
    expect(await item(keys.finding(parked.id))).not.toHaveProperty('gsi5pk');
    expect(await item(keys.meta('#INDEX#byScope'))).toMatchObject({ type: 'meta' });
    expect(await problems(waiting.id)).toEqual([]);

    // From then on the index alone answers: another store (another process) does not read everything again.
    const later = aFinding({ type: 'repository', id: 'github.com/acme/api' }, 'gitleaks');
    await table.doc.send(new PutCommand({ TableName: tableName, Item: legacyItem(later) }));
    expect(ids(await new DynamoFindingStore(table).waitingForOwner([waitScope(later.asset)], everything))).toEqual([
      waiting.id,
    ]);
    // …and `audit verify` now says which finding is hidden from it.
    expect(await problems(later.id)).toEqual([
      'its index keys do not match its fields (byScope gsi5pk missing, byScope gsi5sk missing): reports and listings no longer see it as it is',
    ]);
  });

  it('a fill cut short records nothing, and the next reader goes on where it stopped', async () => {
    const { client, tableName } = await aFreshStore();
    const table = new SingleTable(client, tableName);
    const legacyItem = (finding: Finding) => {
      const { gsi5pk: _pk, gsi5sk: _sk, waitAsset: _asset, waitScanners: _scanners, ...item } = toFindingItem(finding);
      return item;
    };
    const [first, second] = [1, 2].map(() => aFinding({ type: 'repository', id: 'github.com/acme/api' }, 'gitleaks'));
    for (const f of [first!, second!])
      await table.doc.send(new PutCommand({ TableName: tableName, Item: legacyItem(f) }));
    // The process dies (here: DynamoDB refuses) after one finding got its keys.
    const send = table.doc.send.bind(table.doc);
    let updates = 0;
    const spy = jest.spyOn(table.doc, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof UpdateCommand && ++updates > 1) return Promise.reject(new Error('Lambda timed out'));
      return send(command as never);
    }) as never);
    await expect(new DynamoFindingStore(table).waitingForOwner([waitScope(first!.asset)], everything)).rejects.toThrow(
      'Lambda timed out',
    );
    spy.mockRestore();
    const item = async (key: { pk: string; sk: string }) =>
      (await table.doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    expect(await item(keys.meta('#INDEX#byScope'))).toBeUndefined();
    const keyed = await Promise.all([first!, second!].map(async (f) => (await item(keys.finding(f.id)))!.gsi5pk));
    expect(keyed.filter((k) => k !== undefined)).toHaveLength(1);

    expect(ids(await new DynamoFindingStore(table).waitingForOwner([waitScope(first!.asset)], everything))).toEqual(
      ids([first!, second!]),
    );
    expect(await item(keys.meta('#INDEX#byScope'))).toMatchObject({ type: 'meta' });
  });
});
