import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CloseloopError } from '../shared/errors';
import type { SinkRef } from '../tickets/model';
import type { CreateResult, StagedTicket, TicketDraft, TicketSink, TicketUpdate } from '../tickets/ports';
import { raisedPriority, type PriorityScheme } from '../tickets/priority';
import { SORT_PREFIX, keys, partitions, type Item, type SingleTable } from './table';

/** The local tracker's priorities: P1 most urgent. */
export const LOCAL_PRIORITIES: PriorityScheme = {
  ladder: ['P1', 'P2', 'P3', 'P4', 'P5'],
  bySeverity: { critical: 'P1', high: 'P2', medium: 'P3', low: 'P4', info: 'P5' },
};

/** A ticket in the hub's own tracker, as `closeloop tickets` shows it. */
export interface LocalTicket {
  key: string;
  findingId: string;
  summary: string;
  assignee: string;
  priority: string;
  status: 'open' | 'done';
  dueDate: string;
  createdAt: string;
  description: string;
  comments: Array<{ at: string; text: string }>;
}

/**
 * The embedded default sink: tickets kept in the findings table, so `npm start` shows the whole
 * loop without Jira or ServiceNow. It reads its own writes, so lookups never lag.
 */
export class LocalTrackerSink implements TicketSink {
  readonly kind = 'local' as const;
  readonly lookupLagMs = 0;
  readonly maxBatch = 25;
  private readonly doc: SingleTable['doc'];
  private readonly tableName: string;

  constructor(
    private readonly table: SingleTable,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.doc = table.doc;
    this.tableName = table.name;
  }

  async create(drafts: TicketDraft[], _sink: SinkRef): Promise<CreateResult[]> {
    if (drafts.length === 0) return [];
    const first = await this.numbers(drafts.length);
    return Promise.all(drafts.map((draft, i) => this.createOne(draft, `CL-${first + i}`)));
  }

  /**
   * The tickets for these drafts, numbered: for each, a check that the finding has no ticket yet
   * (its pointer) and the ticket, which the sync writes with the ticket record and the finding's
   * link in one transaction (`DynamoTicketStore.recordStoredTicket`).
   */
  async stage(drafts: TicketDraft[], _sink: SinkRef): Promise<StagedTicket[]> {
    if (drafts.length === 0) return [];
    const first = await this.numbers(drafts.length);
    return drafts.map((draft, i) => {
      const key = `CL-${first + i}`;
      // The ticket record's key is the guard of a staged ticket; the pointer is only checked, so a
      // ticket an earlier create made (whose record was lost) is found and linked, never doubled.
      const noTicketYet = {
        ConditionCheck: {
          TableName: this.tableName,
          Key: keys.localTicketPointer(draft.findingId),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      };
      return { findingId: draft.findingId, key, writes: [noTicketYet, this.items(draft, key)[1]] };
    });
  }

  /**
   * The first of `count` ticket numbers: one counter step numbers a whole chunk. A number a retried
   * create does not use is skipped, as a tracker skips the number of a deleted issue.
   */
  private async numbers(count: number): Promise<number> {
    const counter = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.localTicketCounter(),
        UpdateExpression: 'ADD #n :count',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':count': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(counter.Attributes?.n ?? count) - count + 1;
  }

  /** A draft's ticket as its two transaction items: the finding's pointer (one ticket per finding, whatever retries happen) and the ticket. */
  private items(draft: TicketDraft, key: string) {
    const ticket: LocalTicket = {
      key,
      findingId: draft.findingId,
      summary: draft.summary,
      assignee: draft.owner,
      priority: draft.escalated
        ? raisedPriority(LOCAL_PRIORITIES, LOCAL_PRIORITIES.bySeverity[draft.finding.severity])
        : LOCAL_PRIORITIES.bySeverity[draft.finding.severity],
      status: 'open',
      dueDate: draft.dueDate,
      createdAt: this.now().toISOString(),
      description: draft.sections.map((s) => `${s.heading}\n${s.lines.map((l) => `  ${l}`).join('\n')}`).join('\n\n'),
      comments: [],
    };
    return [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...keys.localTicketPointer(draft.findingId), type: 'local_ticket_pointer', key },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      { Put: { TableName: this.tableName, Item: { ...keys.localTicket(key), type: 'local_ticket', ...ticket } } },
    ];
  }

  private async createOne(draft: TicketDraft, key: string): Promise<CreateResult> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: this.items(draft, key) }));
      return { findingId: draft.findingId, status: 'created', key };
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const existing = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keys.localTicketPointer(draft.findingId),
          ConsistentRead: true,
        }),
      );
      if (!existing.Item) throw err;
      return { findingId: draft.findingId, status: 'created', key: String(existing.Item.key) };
    }
  }

  async find(findingIds: string[]): Promise<Map<string, { key: string }>> {
    const found = new Map<string, { key: string }>();
    for (const id of findingIds) {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: keys.localTicketPointer(id), ConsistentRead: true }),
      );
      if (out.Item) found.set(id, { key: String(out.Item.key) });
    }
    return found;
  }

  async update(key: string, update: TicketUpdate): Promise<void> {
    const ticket = await this.get(key);
    if (!ticket) throw new CloseloopError(`local ticket ${key} not found`);
    // Comments are keyed by work id: a replayed update finds its comment already there.
    if (ticket.comments.some((c) => c.text.startsWith(`[${update.workId}]`))) return;
    const comments = [...ticket.comments, { at: this.now().toISOString(), text: `[${update.workId}] ${update.text}` }];
    const status = update.op === 'close' ? 'done' : update.op === 'reopen' ? 'open' : ticket.status;
    // One step above the severity's priority: repeated escalations and retries set the same value.
    const priority =
      update.escalate || update.op === 'escalate'
        ? raisedPriority(LOCAL_PRIORITIES, LOCAL_PRIORITIES.bySeverity[update.finding.severity])
        : ticket.priority;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.localTicket(key), type: 'local_ticket', ...ticket, comments, status, priority },
      }),
    );
  }

  async get(key: string): Promise<LocalTicket | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.localTicket(key), ConsistentRead: true }),
    );
    return out.Item ? toTicket(out.Item) : undefined;
  }

  /** Every local ticket, by key number. */
  async list(): Promise<LocalTicket[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cl)',
      ExpressionAttributeValues: { ':pk': partitions.localTracker, ':cl': SORT_PREFIX.localTicket },
    });
    return items.map(toTicket).sort((a, b) => Number(a.key.slice(3)) - Number(b.key.slice(3)));
  }
}

function toTicket(item: Item): LocalTicket {
  const { pk: _pk, sk: _sk, type: _type, ...rest } = item;
  return rest as unknown as LocalTicket;
}
