/**
 * The attacker's (and the tamper tests') view of stored audit events: they are kept one page per
 * write (core/store/event-pages.ts), so editing or deleting "event n" means finding the page that
 * holds it and rewriting that page, as someone with write access to the table would.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
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

const eventsIn = (item: Item): AuditEvent[] =>
  item.type === 'events' ? (item.events as AuditEvent[]) : [item as unknown as AuditEvent];

/** Every stored event of the partition, as stored (hashes untouched), in sequence order. */
export async function storedEvents(client: DynamoDBClient, table: string, pk: string): Promise<AuditEvent[]> {
  return (await eventItems(client, table, pk)).flatMap(eventsIn).map((e) => {
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
}
