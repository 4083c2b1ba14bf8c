import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks `sha256=<hex HMAC-SHA256 of the raw body>` under the shared secret, in constant time.
 * The raw bytes as received: re-serialised JSON would not match.
 */
export function verifyHmacSignature(rawBody: string | Buffer, header: string | undefined, secret: string): boolean {
  if (!header || !secret) return false;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(m[1]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header value a sender computes (tests and documentation). */
export function signBody(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
