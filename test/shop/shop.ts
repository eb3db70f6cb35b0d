/**
 * What the storefront specs share: placing orders the way a shopper does, reading carts where the
 * app keeps them (the session row before sign-in, `cart_items` after), and reading pages the way
 * a screen reader would (titles, labels, the error an input's aria-describedby points to).
 */
import fs from 'node:fs';
import { countOf, scalar, sessionIdIn, storedSession } from '../rows.ts';
import type { Browser, TestApp } from '../support.ts';
import { parseResumeToken, RESUME_COOKIE, SESSION_COOKIE } from '../visitors.ts';

/** A section of seed 003 (the template helper API; a copy of ../shared/seeds/ kept with the tests), from its heading to the next. */
export function seedSection(heading: string, nextHeading: string): string {
  const seed = fs.readFileSync(new URL('../fixtures/seeds/003_21659a2ffcd5e95a.txt', import.meta.url), 'utf8');
  return seed.slice(seed.indexOf(`${heading}\n`) + heading.length + 1, seed.indexOf(`${nextHeading}\n`));
}

export const SHIPPING = { name: 'Ada Lovelace', address: '12 Analytical Row', city: 'London', postcode: 'N1 9GU' };

/** The receipt's address checkout asks for (not a login). */
export const RECEIPT_EMAIL = 'ada@example.com';

export async function addToCart(browser: Browser, productId: string, quantity: number | string = 1) {
  return browser.submit(`/products/${productId}`, { productId, quantity: String(quantity) });
}

/** Submits the checkout's place-order form (the receipt to RECEIPT_EMAIL unless `shipping` says otherwise); returns the response (303 to /orders/<id> when placed). */
export function submitOrder(browser: Browser, shipping: Record<string, string> = SHIPPING) {
  return browser.submit('/checkout', { action: 'place-order', email: RECEIPT_EMAIL, ...shipping });
}

/** Places the cart as an order and returns the order's id. */
export async function placeOrder(browser: Browser, shipping: Record<string, string> = SHIPPING): Promise<string> {
  const response = await submitOrder(browser, shipping);
  const id = /^\/orders\/([^/?#]+)$/.exec(response.headers.location ?? '')?.[1];
  if (response.status !== 303 || !id) throw new Error(`placing an order answered ${response.status} ${response.headers.location}`);
  return id;
}

/** The guest this browser is (from its resume cookie). */
export function guestIdOf(browser: Browser): string {
  const token = browser.cookie(RESUME_COOKIE);
  if (!token) throw new Error('this browser holds no resume cookie: it is not a guest');
  return parseResumeToken(token).id;
}

export async function accountIdOf(app: TestApp, email: string): Promise<string> {
  const id = await scalar<string>(app, 'SELECT id FROM users WHERE email = ?', email);
  if (!id) throw new Error(`no user ${email}`);
  return id;
}

/** The signed-in cart stored under an account, as product id → quantity. */
export async function storedCart(app: TestApp, accountId: string): Promise<Record<string, number>> {
  const rows = await app.sql<{ product_id: string; quantity: number }>('SELECT product_id, quantity FROM cart_items WHERE account_id = ?', accountId);
  return Object.fromEntries(rows.map((row) => [row.product_id, row.quantity]));
}

export function countRowsWhere(app: TestApp, table: string, where: string, ...values: unknown[]): Promise<number> {
  return countOf(app, table, where, ...values);
}

/** The session row of this browser, parsed. */
export async function sessionOf(app: TestApp, browser: Browser): Promise<Record<string, unknown> | undefined> {
  const cookie = browser.cookie(SESSION_COOKIE);
  return cookie ? storedSession(app, sessionIdIn(cookie)) : undefined;
}

export function titleOf(html: string): string | undefined {
  return /<title>([^<]*)<\/title>/.exec(html)?.[1];
}

/** Each visible form control (input, textarea, select) with its id, name and attributes. */
export function controlsOf(html: string): Array<{ tag: string; id?: string; name?: string; attributes: string }> {
  return [...html.matchAll(/<(input|textarea|select)\b([^>]*)>/g)]
    .map(([, tag, attributes]) => ({
      tag: tag!, attributes: attributes!,
      id: /\bid="([^"]*)"/.exec(attributes!)?.[1],
      name: /\bname="([^"]*)"/.exec(attributes!)?.[1],
    }))
    .filter((control) => !/\btype="hidden"/.test(control.attributes));
}

/** The names of the form controls that no `<label for>` (or aria-label) names. */
export function unlabelledControls(html: string): string[] {
  const labelled = new Set([...html.matchAll(/<label\b[^>]*\bfor="([^"]+)"/g)].map((match) => match[1]));
  return controlsOf(html)
    .filter((control) => !(control.id && labelled.has(control.id)) && !/\baria-label="[^"]+"/.test(control.attributes))
    .map((control) => control.name ?? control.id ?? control.tag);
}

/** The value attribute of the input with this id. */
export function valueOf(html: string, id: string): string | undefined {
  const input = new RegExp(`<input id="${id}"[^>]*>`).exec(html)?.[0];
  const value = input ? /\bvalue="([^"]*)"/.exec(input)?.[1] : undefined;
  return value === undefined ? undefined : decode(value);
}

/** The text of the element the input's aria-describedby names: its error, tied to it. */
export function errorFor(html: string, id: string): string | undefined {
  const input = new RegExp(`<(?:input|textarea) id="${id}"[^>]*>`).exec(html)?.[0];
  const describedBy = input && /\baria-describedby="([^"]+)"/.exec(input)?.[1];
  if (!describedBy) return undefined;
  const text = new RegExp(`<p [^>]*id="${describedBy}"[^>]*>([^<]*)</p>`).exec(html)?.[1];
  return text === undefined ? undefined : decode(text);
}

/** The flash messages shown at the top of a page. */
export function flashesOf(html: string): string[] {
  return [...html.matchAll(/<p class="flash flash-\w+">([^<]*)<\/p>/g)].map((match) => decode(match[1]!));
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

export function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
}
