import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalStandIn } from './http-server';

/** What the stand-in does with the next request instead of accepting it. */
export type ChatFault =
  | { kind: 'status'; status: number; body: string; headers?: Record<string, string> }
  /** Takes the message (it is posted), then drops the connection: the sender never hears back. */
  | { kind: 'lose_answer' };

/** Untrusted JSON, walked field by field; every value is checked before it is used. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const SLACK_BLOCK_TYPES = new Set(['header', 'section', 'context', 'divider', 'actions', 'image', 'rich_text']);

/**
 * Slack's incoming-webhook contract (api.slack.com/messaging/webhooks and Block Kit's limits):
 * a JSON body with `text` and/or `blocks`, at most 50 blocks, header text plain_text of at most
 * 150 characters, section text at most 3000, context blocks of at most 10 elements. Slack answers
 * 200 `ok`, or 400 `invalid_payload` when the body is not a message.
 */
export function slackViolations(body: unknown): string[] {
  const problems: string[] = [];
  if (typeof body !== 'object' || body === null) return ['body is not a JSON object'];
  const b = body as { text?: unknown; blocks?: unknown };
  if (b.text === undefined && b.blocks === undefined) problems.push('neither text nor blocks');
  if (b.text !== undefined && (typeof b.text !== 'string' || b.text.length === 0))
    problems.push('text is not a string');
  if (b.blocks !== undefined) {
    if (!Array.isArray(b.blocks)) return [...problems, 'blocks is not an array'];
    if (b.blocks.length > 50) problems.push(`${b.blocks.length} blocks (at most 50)`);
    b.blocks.forEach((block: Json, i: number) => {
      if (!SLACK_BLOCK_TYPES.has(block?.type)) problems.push(`blocks[${i}]: unknown type ${block?.type}`);
      if (block.type === 'header') {
        if (block.text?.type !== 'plain_text') problems.push(`blocks[${i}]: header text must be plain_text`);
        if (typeof block.text?.text !== 'string' || block.text.text.length > 150)
          problems.push(`blocks[${i}]: header text must be at most 150 characters`);
      }
      if (block.type === 'section') {
        if (!['mrkdwn', 'plain_text'].includes(block.text?.type)) problems.push(`blocks[${i}]: section text type`);
        if (typeof block.text?.text !== 'string' || block.text.text.length > 3000)
          problems.push(`blocks[${i}]: section text must be at most 3000 characters`);
      }
      if (block.type === 'context' && (!Array.isArray(block.elements) || block.elements.length > 10))
        problems.push(`blocks[${i}]: context needs 1-10 elements`);
    });
  }
  return problems;
}

const TEXT_ELEMENTS = new Set([
  'TextBlock',
  'RichTextBlock',
  'FactSet',
  'ColumnSet',
  'Container',
  'Image',
  'ActionSet',
]);

/**
 * A Teams Workflows webhook's contract ("When a Teams webhook request is received"): a message
 * with exactly one Adaptive Card attachment (Workflows take no legacy MessageCard), the card
 * `AdaptiveCard` of a version Teams renders (≤ 1.5), TextBlocks with text, RichTextBlocks of
 * TextRuns, and the whole message within Teams' 28 KB. It answers 202 Accepted.
 */
export function teamsViolations(body: unknown, bytes: number): string[] {
  const problems: string[] = [];
  if (bytes > 28 * 1024) problems.push(`message is ${bytes} bytes (Teams takes about 28 KB)`);
  const b = body as { type?: unknown; attachments?: unknown };
  if (b?.type !== 'message') problems.push('type must be "message"');
  if (!Array.isArray(b?.attachments) || b.attachments.length !== 1) return [...problems, 'one attachment expected'];
  const a = b.attachments[0] as { contentType?: unknown; content?: Json };
  if (a.contentType !== 'application/vnd.microsoft.card.adaptive')
    problems.push('attachment contentType must be application/vnd.microsoft.card.adaptive');
  const card = a.content;
  if (card?.type !== 'AdaptiveCard') problems.push('content.type must be AdaptiveCard');
  if (typeof card?.version !== 'string' || !/^1\.[0-5]$/.test(card.version))
    problems.push('content.version must be 1.0-1.5');
  if (!Array.isArray(card?.body) || card.body.length === 0) return [...problems, 'content.body must be a list'];
  card.body.forEach((el: Json, i: number) => {
    if (!TEXT_ELEMENTS.has(el?.type)) problems.push(`body[${i}]: unknown element ${el?.type}`);
    if (el.type === 'TextBlock' && (typeof el.text !== 'string' || el.text === ''))
      problems.push(`body[${i}]: TextBlock needs text`);
    if (el.type === 'RichTextBlock') {
      if (!Array.isArray(el.inlines) || el.inlines.length === 0)
        problems.push(`body[${i}]: RichTextBlock needs inlines`);
      else
        el.inlines.forEach((run: Json, j: number) => {
          if (run?.type !== 'TextRun' || typeof run.text !== 'string')
            problems.push(`body[${i}].inlines[${j}]: TextRun with text expected`);
          if (
            run.selectAction &&
            (run.selectAction.type !== 'Action.OpenUrl' || !/^https?:/.test(run.selectAction.url))
          )
            problems.push(`body[${i}].inlines[${j}]: selectAction must open an http(s) URL`);
        });
    }
  });
  return problems;
}

/**
 * A chat incoming webhook on 127.0.0.1 (Slack or Teams): it checks every message against the
 * service's contract, keeps the ones it takes, and can be told to refuse, rate-limit or take a
 * message and lose the answer. Its webhook URL has a secret path, like the real ones.
 */
export class FakeChat extends LocalStandIn {
  /** Messages posted into the channel, in order. */
  readonly posted: unknown[] = [];
  /** Contract violations seen (a message that breaks it is refused and not posted). */
  readonly violations: string[] = [];
  readonly faults: ChatFault[] = [];
  readonly path: string;

  constructor(
    readonly kind: 'slack' | 'teams',
    readonly secretPath = kind === 'slack'
      ? '/services/T0001/B0001/XyZsecretPart1234567890'
      : '/workflows/wf1/triggers/manual/paths/invoke?sig=Sig0secretPart1234567890',
  ) {
    super();
    this.path = secretPath;
  }

  get url(): string {
    return `${this.base}${this.path}`;
  }

  /** The texts of everything posted (Slack: text and blocks; Teams: every card text), for assertions. */
  texts(): string[] {
    return this.posted.map((m) => JSON.stringify(m));
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method !== 'POST' || req.url !== this.path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(this.kind === 'slack' ? 'no_service' : '');
      return;
    }
    let body: unknown;
    try {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) throw new Error('content-type');
      body = JSON.parse(raw);
    } catch {
      this.violations.push('body is not JSON sent as application/json');
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    const problems = this.kind === 'slack' ? slackViolations(body) : teamsViolations(body, Buffer.byteLength(raw));
    if (problems.length > 0) {
      this.violations.push(...problems);
      if (this.kind === 'slack') res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      else res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"InvalidRequestContent"}}');
      return;
    }
    const fault = this.faults.shift();
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'text/plain', ...fault.headers }).end(fault.body);
      return;
    }
    this.posted.push(body);
    if (fault?.kind === 'lose_answer') {
      req.socket.destroy();
      return;
    }
    if (this.kind === 'slack') res.writeHead(200, { 'content-type': 'text/html' }).end('ok');
    else res.writeHead(202).end();
  }
}
