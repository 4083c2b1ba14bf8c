import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import type { Digest } from '@core/notify/model';
import { channelSenders, readLocalWebhookUrls } from '@connectors/notify/senders';
import { SLACK_LIMITS, slackMessage } from '@connectors/notify/slack';
import { snsSubject } from '@connectors/notify/sns';
import { TEAMS_MAX_BYTES, teamsMessage } from '@connectors/notify/teams';
import { slackViolations, teamsViolations } from '@test/support/fake-chat';

const digest = (lines: number, length = 200): Digest => ({
  id: 'c-2026-11-02T09:00:00.000Z-1a2b3c4d',
  channel: 'c',
  createdAt: '2026-11-02T09:00:00.000Z',
  title: `closeloop: ${lines} overdue`,
  sections: [
    {
      kind: 'sla.breached',
      heading: 'Overdue (SLA breached)',
      total: lines,
      lines: Array.from({ length: lines }, (_, i) => ({
        subject: `NHI-${i}`,
        text: `NHI-${i} <b>&</b> ${'x'.repeat(length)}`,
        url: `https://jira.example/browse/SEC-${i}`,
      })),
    },
  ],
  waiting: 0,
  notices: [],
});

describe('notification senders', () => {
  it('renders Slack messages within Block Kit limits, escaping mrkdwn', () => {
    const message = slackMessage(digest(10, 500), { repeat: false });
    expect(slackViolations(message)).toEqual([]);
    const section = JSON.stringify(message.blocks[1]);
    expect(section).toContain('&lt;b&gt;&amp;&lt;/b&gt;');
    expect(section).toContain('<https://jira.example/browse/SEC-0|open ticket>');
    expect((message.blocks[1] as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(
      SLACK_LIMITS.section,
    );
  });

  it('renders Teams Adaptive Cards that fit in a Teams message, counting the lines left out', () => {
    const message = teamsMessage(digest(10, 5000), { repeat: true });
    const bytes = Buffer.byteLength(JSON.stringify(message));
    expect(bytes).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
    expect(teamsViolations(message, bytes)).toEqual([]);
    expect(JSON.stringify(message)).toMatch(/… and \d+ more/);
    expect(JSON.stringify(message)).toContain('Possible repeat');
  });

  it('keeps SNS subjects to under 100 printable ASCII characters', () => {
    const subject = snsSubject({ ...digest(1), title: `closeloop: ${'é'.repeat(200)}\nnext` }, { repeat: true });
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('refuses plain-http webhook URLs except on loopback, without quoting them', () => {
    const senders = channelSenders({
      webhooks: {
        urls: { a: 'http://hooks.example.com/services/T/B/secretpath', b: 'http://127.0.0.1:9/x' },
        source: 'the file',
      },
      http: axios.create(),
    });
    const a = senders({ name: 'a', kind: 'slack', to: ['*'] });
    expect(a).toEqual({ unavailable: 'the webhook URL for "a" in the file must be an https URL' });
    expect('send' in senders({ name: 'b', kind: 'teams', to: ['*'] })).toBe(true);
  });

  it('reads local webhook URLs only from a file its owner alone can read', () => {
    const home = mkdtempSync(join(tmpdir(), 'closeloop-notify-'));
    expect(readLocalWebhookUrls(home)).toEqual({ urls: {}, source: join(home, 'notify-webhooks.json') });
    const file = join(home, 'notify-webhooks.json');
    writeFileSync(file, JSON.stringify({ secops: 'https://hooks.slack.com/services/T/B/secretpath' }));
    chmodSync(file, 0o644);
    const open = readLocalWebhookUrls(home);
    expect(open.problem).toBe(
      `${file} can be read by other users (mode 644); run chmod 600 on it: webhook URLs are credentials`,
    );
    expect(open.urls).toEqual({});
    chmodSync(file, 0o600);
    expect(readLocalWebhookUrls(home).urls).toEqual({ secops: 'https://hooks.slack.com/services/T/B/secretpath' });
    writeFileSync(file, 'not json');
    expect(readLocalWebhookUrls(home).problem).toMatch(/is not JSON/);
  });
});
