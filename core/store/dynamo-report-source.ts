import type { AuditEvent } from '../audit/chain';
import { PAGE_SPAN_MS, eventsOf, inlineEventsOf, isEventPage, withInline } from './event-pages';
import { inParallel } from '../shared/concurrency';
import { DAY_MS } from '../shared/clock';
import { ExpiredExceptionRecordSchema, type ExpiredExceptionRecord } from '../finding/history';
import { FindingSchema, type Finding, type FindingStatus } from '../finding/model';
import { ManagedSecretRecordSchema } from '../rotation/managed-secrets';
import type { ReportReads, ReportSource } from '../reports/ports';
import { EVENT_DAY_SHARDS, onIndex, partitions, type Item, type SingleTable, type TableQuery } from './table';

/** Index partitions one report reads at once. */
const PARTITIONS_IN_PARALLEL = 4;

/** ReportSource on the one table: Queries only, each counted with its consumed read capacity. */
export class DynamoReportSource implements ReportSource {
  private readonly used: ReportReads = { requests: 0, readUnits: 0 };

  constructor(private readonly table: SingleTable) {}

  reads(): ReportReads {
    return { ...this.used };
  }

  async findings(statuses: readonly FindingStatus[]): Promise<Finding[]> {
    // Status partitions are independent: read them side by side (results kept in the given order).
    const pages = await inParallel(PARTITIONS_IN_PARALLEL, statuses, (status) =>
      this.query(onIndex('byStatus', partitions.status(status))),
    );
    return pages.flat().map((i) => FindingSchema.parse(i));
  }

  async openOf(owner: string): Promise<Finding[]> {
    const items = await this.query(onIndex('byOwnerDue', partitions.openOf(owner)));
    return items.map((i) => FindingSchema.parse(i));
  }

  async closedOf(owner: string, since?: string): Promise<Finding[]> {
    const items = await this.query(
      onIndex(
        'byOwnerDue',
        partitions.closedOf(owner),
        since ? { condition: '>= :since', values: { ':since': since } } : undefined,
      ),
    );
    return items.map((i) => FindingSchema.parse(i));
  }

  async acceptedOf(owner: string): Promise<Finding[]> {
    const items = await this.query(onIndex('byOwnerDue', partitions.acceptedOf(owner)));
    return items.map((i) => FindingSchema.parse(i));
  }

  async expiredExceptions(since?: string): Promise<ExpiredExceptionRecord[]> {
    const items = await this.query(
      onIndex(
        'byStatus',
        partitions.expiredExceptions,
        since ? { condition: '>= :since', values: { ':since': since } } : undefined,
      ),
    );
    return items.map((i) => ExpiredExceptionRecordSchema.parse(i));
  }

  async managedSecrets() {
    const items = await this.query(onIndex('byStatus', partitions.managedSecrets));
    return items.map((i) => ManagedSecretRecordSchema.parse(i));
  }

  async trail(findingId: string): Promise<{ finding?: Finding; events: AuditEvent[] }> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': partitions.finding(findingId) },
      ConsistentRead: true,
    });
    const head = items.find((i) => i.type === 'finding');
    // One Query reads the head before the events (its sort key sorts first), which is what a whole chain needs.
    const events = withInline(
      eventsOf(items.filter((i) => i.type === 'event' || isEventPage(i))),
      inlineEventsOf(head),
    );
    return { ...(head ? { finding: FindingSchema.parse(head) } : {}), events };
  }

  async eventsBetween(from: string, to: string, actor?: string): Promise<AuditEvent[]> {
    const days: string[] = [];
    for (let day = Date.parse(from.slice(0, 10)); day <= Date.parse(to.slice(0, 24)); day += DAY_MS) {
      const date = new Date(day).toISOString().slice(0, 10);
      days.push(...Array.from({ length: EVENT_DAY_SHARDS }, (_, shard) => partitions.eventDay(date, shard)));
    }
    // A page is listed under its first event's time, and its events lie within PAGE_SPAN_MS of it.
    const pageFrom = new Date(Math.max(Date.parse(from.slice(0, 10)), Date.parse(from) - PAGE_SPAN_MS)).toISOString();
    const pages = await inParallel(PARTITIONS_IN_PARALLEL, days, (partition) => {
      const query = onIndex('byTimer', partition, {
        condition: 'BETWEEN :from AND :to',
        values: { ':from': pageFrom, ':to': to, ...(actor ? { ':actor': actor } : {}) },
      });
      // One event per item (earlier versions) names its actor; a page lists the actors of its events.
      return this.query(actor ? { ...query, FilterExpression: 'actor = :actor OR contains(actors, :actor)' } : query);
    });
    return pages.flatMap((items) => {
      // The index's own bounds: from `from` (inclusive) to `to` (its keys `<at>#…` sort after `to`).
      return eventsOf(items).filter((e) => e.at >= from && e.at < to && (!actor || e.actor === actor));
    });
  }

  /** Every page of the Query, its requests and consumed read units counted. */
  private async query(query: TableQuery): Promise<Item[]> {
    const out: Item[] = [];
    for await (const page of this.table.pages({ ReturnConsumedCapacity: 'TOTAL', ...query })) {
      this.used.requests += 1;
      this.used.readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
      out.push(...(page.Items ?? []));
    }
    return out;
  }
}
