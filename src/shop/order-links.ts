import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OrderLink } from './stores.ts';

/** How long a receipt's link opens its order. */
export const ORDER_LINK_TTL_MS = 30 * 24 * 3_600_000;

// 32 random bytes in base64url: what a link's `key` must look like before it is even hashed.
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * A new order link: 256 random bits for the receipt's URL, and what the order keeps of it, a
 * SHA-256 (a full-entropy token needs no slow hash; a copy of the database opens no order).
 */
export function newOrderLink(now: number): { token: string; link: OrderLink } {
  const token = randomBytes(32).toString('base64url');
  return { token, link: { hash: hashOf(token), expiresAt: now + ORDER_LINK_TTL_MS } };
}

/** Whether `token` opens the order whose link is `link` at `now`; compared in constant time. */
export function orderLinkOpens(link: OrderLink | null, token: unknown, now: number): boolean {
  if (!link || typeof token !== 'string' || !TOKEN.test(token) || now >= link.expiresAt) return false;
  const expected = Buffer.from(link.hash);
  const actual = Buffer.from(hashOf(token));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The hash a valid token is stored under (for the guarded write that uses the link). */
export function orderLinkHash(token: string): string {
  return hashOf(token);
}

/** The receipt's link: from APP_URL, never from the request's Host header. */
export function orderLinkUrl(appUrl: string, orderId: string, token: string): string {
  return `${appUrl}/orders/${encodeURIComponent(orderId)}?key=${token}`;
}
