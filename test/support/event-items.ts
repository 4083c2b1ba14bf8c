/**
 * The attacker's (and the tamper tests') view of stored audit events: they are kept one page per
 * write (core/store/event-pages.ts), and a finding's head may carry its creation's events too
 * until its next write, so editing or deleting "event n" means finding every item that holds it
 * and rewriting that item, as someone with write access to the table would.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '@core/audit/chain';

type Item = Record<string, unknown>;
const docOf = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/** The event items (pages, or single events of earlier versions) of a chain's partition, in order. */
export async function eventItems(client: DynamoDBClient, table: string, pk: string): Promise<Item[]> {
  const out = await docOf(client).send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
      ExpressionAttributeValues: { ':pk': pk, ':e': 'EVENT#' },
    }),
  );
  return (out.Items ?? []) as Item[];
}

/** A finding's head when it carries events of its own (core/store/event-pages.ts INLINE_EVENTS). */
async function headWithEvents(client: DynamoDBClient, table: string, pk: string): Promise<Item | undefined> {
  if (!pk.startsWith('FINDING#')) return undefined;
  const out = await docOf(client).send(new GetCommand({ TableName: table, Key: { pk, sk: '#FINDING' } }));
  return Array.isArray(out.Item?.inlineEvents) && out.Item.inlineEvents.length > 0 ? out.Item : undefined;
}

const eventsIn = (item: Item): AuditEvent[] =>
  item.type === 'events' ? (item.events as AuditEvent[]) : [item as unknown as AuditEvent];

/** Every stored event of the partition, as stored (hashes untouched), in sequence order. */
export async function storedEvents(client: DynamoDBClient, table: string, pk: string): Promise<AuditEvent[]> {
  const paged = (await eventItems(client, table, pk)).flatMap(eventsIn);
  const inline = ((await headWithEvents(client, table, pk))?.inlineEvents ?? []) as AuditEvent[];
  const unpaged = inline.filter((e) => !paged.some((p) => p.seq === e.seq));
  return [...paged, ...unpaged].map((e) => {
    const { pk: _pk, sk: _sk, type: _type, gsi4pk: _p, gsi4sk: _s, ...event } = e as AuditEvent & Item;
    return event as AuditEvent;
  });
}

/**
 * Rewrites stored events in place: `rewrite` gets each event and returns it changed (or as it is).
 * Pages and single items keep their keys and index attributes; nothing is re-hashed unless `rewrite` does it.
 */
export async function rewriteStoredEvents(
  client: DynamoDBClient,
  table: string,
  pk: string,
  rewrite: (event: AuditEvent) => AuditEvent,
): Promise<void> {
  const doc = docOf(client);
  for (const item of await eventItems(client, table, pk)) {
    const next =
      item.type === 'events'
        ? { ...item, events: (item.events as AuditEvent[]).map(rewrite) }
        : { ...item, ...rewrite(item as unknown as AuditEvent) };
    await doc.send(new PutCommand({ TableName: table, Item: next }));
  }
  const head = await headWithEvents(client, table, pk);
  if (head)
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...head, inlineEvents: (head.inlineEvents as AuditEvent[]).map(rewrite) },
      }),
    );
}

/** Edits event `seq` where it is stored, leaving its hash (what a table writer who does not re-chain does). */
export const editStoredEvent = (
  client: DynamoDBClient,
  table: string,
  pk: string,
  seq: number,
  change: Partial<AuditEvent>,
) => rewriteStoredEvents(client, table, pk, (e) => (e.seq === seq ? { ...e, ...change } : e));

/** Deletes every stored event after `keep`: pages wholly after it go, a page holding it keeps its first events. */
export async function deleteStoredEventsAfter(
  client: DynamoDBClient,
  table: string,
  pk: string,
  keep: number,
): Promise<void> {
  const doc = docOf(client);
  for (const item of await eventItems(client, table, pk)) {
    const events = eventsIn(item);
    if (events.every((e) => e.seq <= keep)) continue;
    if (item.type === 'events' && events[0]!.seq <= keep) {
      const kept = events.filter((e) => e.seq <= keep);
      await doc.send(
        new PutCommand({ TableName: table, Item: { ...item, events: kept, last: kept[kept.length - 1]!.seq } }),
      );
    } else await doc.send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }));
  }
  const head = await headWithEvents(client, table, pk);
  if (head) {
    const kept = (head.inlineEvents as AuditEvent[]).filter((e) => e.seq <= keep);
    const { inlineEvents: _all, ...rest } = head;
    await doc.send(
      new PutCommand({ TableName: table, Item: kept.length > 0 ? { ...rest, inlineEvents: kept } : rest }),
    );
  }
}
