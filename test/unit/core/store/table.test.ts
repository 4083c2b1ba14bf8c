import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GSI, INDEX_PARTITIONS, ITEM_TYPES, indexKeys, keys } from '@core/store/table';

const README = readFileSync(join(__dirname, '..', '..', '..', '..', 'README.md'), 'utf8');

/** The rows of the first Markdown table after `heading` whose header starts with `firstColumn`. */
function tableRows(heading: string, firstColumn: string): string[][] {
  const section = README.slice(README.indexOf(heading));
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstColumn} |`));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1')),
    );
  }
  return rows;
}

/** A registry pattern (`FINDING#<id>`) as a regex over real keys. */
const patternOf = (text: string) =>
  new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>/g, '.+')}$`);

// One real key of each builder: the registry must describe each of them, and nothing else.
const builtKeys = {
  finding: keys.finding('NHI-0000000000000001'),
  findingEvent: keys.findingEvent('NHI-0000000000000001', 3),
  ticketWork: keys.ticketWork('NHI-0000000000000001', 3),
  writebackWork: keys.writebackWork('NHI-0000000000000001', 3),
  ticket: keys.ticket('NHI-0000000000000001'),
  localTicketPointer: keys.localTicketPointer('NHI-0000000000000001'),
  expiredException: keys.expiredException('NHI-0000000000000001', '2026-11-01T00:00:00.000Z'),
  alias: keys.alias('github:acme/api#12'),
  quarantine: keys.quarantine('0123abcd'),
  cursor: keys.cursor('github', 'org:acme'),
  localTicket: keys.localTicket('CL-7'),
  localTicketCounter: keys.localTicketCounter(),
  webhookDelivery: keys.webhookDelivery('jira', 'sha256:0123abcd'),
  webhookIgnored: keys.webhookIgnored('jira'),
  managedSecret: keys.managedSecret('arn:aws:secretsmanager:eu-west-1:1:secret:app'),
  managedSecretEvent: keys.managedSecretEvent('arn:aws:secretsmanager:eu-west-1:1:secret:app', 2),
  managedSecretDelivery: keys.managedSecretDelivery('arn:aws:secretsmanager:eu-west-1:1:secret:app', 'ct-1'),
  findingNotice: keys.findingNotice('NHI-0000000000000001', 'exception.expiring#2026-12-01T00:00:00.000Z'),
  managedSecretNotice: keys.managedSecretNotice('arn:aws:secretsmanager:eu-west-1:1:secret:app', '0000000003'),
  notificationDelivery: keys.notificationDelivery('secops', 'NHI-0000000000000001#3'),
  notificationChannel: keys.notificationChannel('secops'),
  digest: keys.digest('secops', 'secops-2026-11-01T00:00:00.000Z-1a2b3c4d'),
  meta: keys.meta('#INDEX#byScope'),
} satisfies Record<keyof typeof keys, { pk: string; sk: string }>;

const at = '2026-11-01T00:00:00.000Z';
const builtIndexKeys = {
  status: indexKeys.status('open', 1, at, 'NHI-0000000000000001'),
  managedSecrets: indexKeys.managedSecrets(at, 'arn:x'),
  expiredExceptions: indexKeys.expiredExceptions(at, 'NHI-0000000000000001'),
  openOf: indexKeys.openOf('team-a', at, 'NHI-0000000000000001'),
  closedOf: indexKeys.closedOf('team-a', at, 'NHI-0000000000000001'),
  acceptedOf: indexKeys.acceptedOf('team-a', at, 'NHI-0000000000000001'),
  secret: indexKeys.secret('ab'.repeat(32), 'NHI-0000000000000001'),
  timer: indexKeys.timer(at, 'NHI-0000000000000001'),
  lifecycleStart: indexKeys.lifecycleStart(at, 'NHI-0000000000000001'),
  event: indexKeys.event({ at, findingId: 'NHI-0000000000000001', seq: 2 }),
  outbox: indexKeys.outbox({ createdAt: at, findingId: 'NHI-0000000000000001', seq: 2 }),
  writeback: indexKeys.writeback({ nextAttemptAt: at, findingId: 'NHI-0000000000000001', seq: 2 }),
  notice: indexKeys.notice({ at, id: 'NHI-0000000000000001#2', subject: 'NHI-0000000000000001' }),
  queued: indexKeys.queued('secops', { at, id: 'NHI-0000000000000001#2' }),
  waiting: indexKeys.waiting('asset:github.com/acme/payments', 'NHI-0000000000000001'),
} satisfies Record<keyof typeof indexKeys, Record<string, string>>;

describe('the single-table layout', () => {
  it('describes every item type in the README storage table as the registry does', () => {
    const readme = tableRows('### Storage: one table', 'item').map(([item, type, pk, sk]) => ({
      item,
      type: type === '-' ? undefined : type,
      pk,
      sk,
    }));
    const registry = ITEM_TYPES.map(({ item, type, pk, sk }) => ({ item, type, pk, sk }));
    expect(readme).toEqual(registry);
  });

  it('describes every index partition in the README index table as the registry does', () => {
    const readme = tableRows('### Storage: one table', 'index').map(([index, key]) =>
      key!
        .split(' / ')
        .map((part) => part.replace(/^`|`$/g, ''))
        .concat(index!),
    );
    const registry = INDEX_PARTITIONS.map((p) => [p.pk, p.sk, p.index]);
    const sorted = (rows: string[][]) => rows.map((r) => r.join(' ')).sort();
    expect(sorted(readme)).toEqual(sorted(registry));
  });

  it('registers the key of every item the key builders make, and no other', () => {
    const matched = new Set<string>();
    for (const [builder, key] of Object.entries(builtKeys)) {
      const types = ITEM_TYPES.filter((t) => patternOf(t.pk).test(key.pk) && patternOf(t.sk).test(key.sk));
      expect({ builder, types: types.length }).toEqual({ builder, types: 1 });
      matched.add(types[0]!.item);
    }
    expect([...matched].sort()).toEqual(ITEM_TYPES.map((t) => t.item).sort());
  });

  it('registers the index partition of every index key builder, and no other', () => {
    const matched = new Set<string>();
    for (const [builder, built] of Object.entries(builtIndexKeys)) {
      const attributes: Record<string, string> = built;
      const index = Object.values(GSI).find((g) => g.partitionKey in attributes)!;
      const partition = INDEX_PARTITIONS.filter(
        (p) =>
          GSI[p.index] === index &&
          patternOf(p.pk).test(attributes[index.partitionKey]!) &&
          patternOf(p.sk).test(attributes[index.sortKey]!),
      );
      expect({ builder, partitions: partition.length }).toEqual({ builder, partitions: 1 });
      matched.add(`${partition[0]!.index} ${partition[0]!.pk}`);
    }
    expect([...matched].sort()).toEqual(INDEX_PARTITIONS.map((p) => `${p.index} ${p.pk}`).sort());
  });
});
