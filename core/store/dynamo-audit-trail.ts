import type { AuditEvent } from '../audit/chain';
import type { AuditTrailStore, ChainHead, ChainKind, TrailRecord, TrailScan } from '../audit/ports';
import { MANAGED_SECRET_BOUND_FIELDS, stateHashOf } from '../audit/state';
import { FindingSchema } from '../finding/model';
import { findingStateHash } from '../finding/write';
import { ManagedSecretRecordSchema } from '../rotation/managed-secrets';
import { describeIssues } from '../shared/problems';
import { toFindingItem, waitingIndexFilled } from './dynamo-finding-store';
import { INLINE_EVENTS, eventsOf, inlineEventsOf, pageSearchStart, withInline } from './event-pages';
import { GSI, SORT_PREFIX, indexKeys, keys, partitions, type Item, type SingleTable } from './table';

const FINDING_PREFIX = partitions.finding('');
const SECRET_PREFIX = partitions.managedSecret('');
const RECORD_SORT_KEY: Record<ChainKind, string> = {
  finding: keys.finding('x').sk,
  managed_secret: keys.managedSecret('x').sk,
};
const INDEX_ATTRIBUTES = Object.values(GSI).flatMap((index) => [index.partitionKey, index.sortKey]);

/** Where an item's chain is, when it is a chain's record or one of its events. */
function chainOf(item: Item): { kind: ChainKind; id: string; role: 'record' | 'event' } | undefined {
  const pk = String(item.pk);
  const sk = String(item.sk);
  const kind: ChainKind | undefined = pk.startsWith(FINDING_PREFIX)
    ? 'finding'
    : pk.startsWith(SECRET_PREFIX)
      ? 'managed_secret'
      : undefined;
  if (!kind) return undefined;
  const id = pk.slice(kind === 'finding' ? FINDING_PREFIX.length : SECRET_PREFIX.length);
  if (sk === RECORD_SORT_KEY[kind]) return { kind, id, role: 'record' };
  if (sk.startsWith(SORT_PREFIX.event)) return { kind, id, role: 'event' };
  return undefined;
}

/** The attributes a Scan returns for `records()`: every field of a record and its index keys (events yield only their keys). */
function recordProjection() {
  const names = [
    ...new Set([
      'pk',
      'sk',
      'type',
      ...Object.keys(FindingSchema.shape),
      ...Object.keys(ManagedSecretRecordSchema.shape),
      ...INDEX_ATTRIBUTES,
    ]),
  ];
  return {
    ProjectionExpression: names.map((_, i) => `#a${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
  };
}

/** Index attributes that differ from what the record's fields give (missing, altered or extra). */
function indexDifferences(item: Item, expected: Item, unchecked: ReadonlySet<string> = new Set()): string[] {
  const checked = INDEX_ATTRIBUTES.filter((attribute) => !unchecked.has(attribute));
  return checked
    .filter((attribute) => item[attribute] !== expected[attribute])
    .map((attribute) => {
      const index = Object.values(GSI).find((i) => i.partitionKey === attribute || i.sortKey === attribute)!.name;
      return `${index} ${attribute} ${item[attribute] === undefined ? 'missing' : expected[attribute] === undefined ? 'not expected' : 'altered'}`;
    });
}

const hidden = (differences: string[]) =>
  `its index keys do not match its fields (${differences.join(', ')}): reports and listings no longer see it as it is`;

/**
 * A finding's record. `unchecked`: index keys not compared, those of an index not yet filled for
 * the items written before it (a table an earlier version wrote lacks them, and no reader trusts
 * that index before it is filled).
 */
function findingRecord(id: string, item: Item, unchecked: ReadonlySet<string>): TrailRecord {
  const base = {
    kind: 'finding' as const,
    id,
    count: Number(item.eventCount ?? 0),
    hash: String(item.lastEventHash ?? ''),
  };
  const parsed = FindingSchema.safeParse(item);
  if (!parsed.success)
    return { ...base, problems: [`its finding item cannot be read: ${describeIssues(parsed.error, item).join('; ')}`] };
  const finding = parsed.data;
  const problems: string[] = [];
  if (finding.id !== id) problems.push(`its item names finding ${finding.id} but is in the partition of ${id}`);
  const differences = indexDifferences(item, toFindingItem(finding), unchecked);
  if (differences.length > 0) problems.push(hidden(differences));
  return { ...base, stateHash: findingStateHash(finding), problems };
}

function secretRecord(arn: string, item: Item): TrailRecord {
  const base = {
    kind: 'managed_secret' as const,
    id: arn,
    count: Number(item.eventCount ?? 0),
    hash: String(item.lastEventHash ?? ''),
  };
  const parsed = ManagedSecretRecordSchema.safeParse(item);
  if (!parsed.success)
    return { ...base, problems: [`its record cannot be read: ${describeIssues(parsed.error, item).join('; ')}`] };
  const record = parsed.data;
  const problems: string[] = [];
  if (record.secretArn !== arn) problems.push(`its record names ${record.secretArn} but is in the partition of ${arn}`);
  const expected = indexKeys.managedSecrets(record.lastRotatedAt, arn);
  const differences = indexDifferences(item, expected);
  if (differences.length > 0) problems.push(hidden(differences));
  return { ...base, stateHash: stateHashOf(record, MANAGED_SECRET_BOUND_FIELDS), problems };
}

/**
 * The audit trail on the one table. Chains are found by a consistent, parallel Scan of the base
 * table: a chain's record (`#FINDING`, `#STATE`) and its events (`EVENT#…`) in their own
 * partition, whatever index keys they carry. A Scan reads every item; it is the price of not
 * trusting the indexes a table writer can edit, paid by the digest writer (keys only) and
 * `audit verify`, never by reports.
 */
export class DynamoAuditTrail implements AuditTrailStore {
  constructor(private readonly table: SingleTable) {}

  heads(): Promise<TrailScan<ChainHead>> {
    return this.scan({ ProjectionExpression: 'pk, sk, eventCount, lastEventHash' }, (kind, id, item) => ({
      kind,
      id,
      count: Number(item.eventCount ?? 0),
      hash: String(item.lastEventHash ?? ''),
    }));
  }

  async records(): Promise<TrailScan<TrailRecord>> {
    const { partitionKey, sortKey } = GSI.byScope;
    const unchecked = new Set((await waitingIndexFilled(this.table)) ? [] : [partitionKey, sortKey]);
    return this.scan(recordProjection(), (kind, id, item) =>
      kind === 'finding' ? findingRecord(id, item, unchecked) : secretRecord(id, item),
    );
  }

  /**
   * A chain's events (of `range`, if given). A finding's head may carry its last write's events
   * (core/store/event-pages.ts): when the pages alone do not reach the count the caller read
   * (`chain.count`, the scan's), the head is read, then the pages again. Once a head is read, the
   * pages of every write before it exist, so that second read is whole up to the head.
   */
  async events(
    chain: Pick<ChainHead, 'kind' | 'id'> & { count?: number },
    range?: { from: number; to: number },
  ): Promise<AuditEvent[]> {
    const pk = chain.kind === 'finding' ? partitions.finding(chain.id) : partitions.managedSecret(chain.id);
    const eventKey = (seq: number) =>
      (chain.kind === 'finding' ? keys.findingEvent(chain.id, seq) : keys.managedSecretEvent(chain.id, seq)).sk;
    // A page is keyed by its first event: the one holding `range.from` may start before it.
    const pages = async () =>
      eventsOf(
        await this.table.queryAll({
          KeyConditionExpression: range
            ? 'pk = :pk AND sk BETWEEN :from AND :to'
            : 'pk = :pk AND begins_with(sk, :events)',
          ExpressionAttributeValues: range
            ? { ':pk': pk, ':from': eventKey(pageSearchStart(range.from)), ':to': eventKey(range.to) }
            : { ':pk': pk, ':events': SORT_PREFIX.event },
          ConsistentRead: true,
        }),
      );
    let events = chain.kind === 'finding' && chain.count === undefined ? [] : await pages();
    const reached =
      chain.count !== undefined && (events.at(-1)?.seq ?? 0) >= Math.min(chain.count, range?.to ?? Infinity);
    if (chain.kind === 'finding' && !reached) {
      const [head] = await this.table.batchGet([keys.finding(chain.id)], ['pk', INLINE_EVENTS]);
      events = withInline(await pages(), inlineEventsOf(head));
    }
    return range ? events.filter((e) => e.seq >= range.from && e.seq <= range.to) : events;
  }

  private async scan<T extends ChainHead>(
    input: { ProjectionExpression: string; ExpressionAttributeNames?: Record<string, string> },
    record: (kind: ChainKind, id: string, item: Item) => T,
  ): Promise<TrailScan<T>> {
    const chains: T[] = [];
    const withEvents = new Map<string, { kind: ChainKind; id: string }>();
    const withRecord = new Set<string>();
    await this.table.scan(input, (items) => {
      for (const item of items) {
        const where = chainOf(item);
        if (!where) continue;
        const key = `${where.kind}:${where.id}`;
        if (where.role === 'record') {
          withRecord.add(key);
          chains.push(record(where.kind, where.id, item));
        } else withEvents.set(key, { kind: where.kind, id: where.id });
      }
    });
    const orphans = [...withEvents].filter(([key]) => !withRecord.has(key)).map(([, chain]) => chain);
    return { chains, orphans };
  }
}
