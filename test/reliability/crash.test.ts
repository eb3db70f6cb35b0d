/**
 * Crash durability: shoppers check out as guests, place orders and save their accounts in
 * parallel; the server is killed with SIGKILL in the middle of it and started again on the same
 * data. Every request that was answered with success is in the database, and nothing is half
 * written: each write the app answers for is one transaction, committed before the answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, guestIdOf, type ServerProcess, startServer, stopServer, tempDataDir } from './server-process.ts';

const SHOPPERS = 4;
const PASSWORD = 'correct horse battery';

interface Ledger {
  orders: Array<{ id: string; account: string }>;
  conversions: Array<{ id: string; email: string }>;
  /** Answers other than the expected ones while the server was up. */
  unexpected: string[];
}

let servers: ServerProcess[] = [];
let dataDir: string | undefined;
afterEach(async () => {
  for (const server of servers) await stopServer(server);
  servers = [];
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** One shopper after another, until told to stop: cart, guest checkout, order, conversion. */
async function shop(url: string, ledger: Ledger, shopper: number, stopped: () => boolean): Promise<void> {
  for (let round = 0; !stopped() && round < 200; round++) {
    const client = new Client(url);
    const expectAnswer = (reply: { status: number; location: string | null }, status: number, what: string) => {
      if (reply.status !== status && !stopped()) ledger.unexpected.push(`${what}: ${reply.status} ${reply.location ?? ''}`);
      return reply.status === status;
    };
    try {
      if (!expectAnswer(await client.submit('/products/candle', { productId: 'candle', quantity: '2' }), 303, 'add to cart')) continue;
      if (!expectAnswer(await client.submit('/checkout', { action: 'guest-checkout' }), 303, 'guest checkout')) continue;
      const account = guestIdOf(client);
      const order = await client.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: 'Ada', address: '1 Road', city: 'Town', postcode: '1000' });
      if (!expectAnswer(order, 303, 'place order')) continue;
      ledger.orders.push({ id: order.location!.split('/').pop()!, account });
      const email = `shopper-${shopper}-${round}@example.com`;
      const converted = await client.submit('/account', { action: 'convert-guest', email, password: PASSWORD });
      if (!expectAnswer(converted, 303, 'conversion')) continue;
      ledger.conversions.push({ id: account, email });
    } catch (error) {
      if (stopped()) return; // the connection died with the server
      throw error;
    }
  }
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('SIGKILL under load', () => {
  it('keeps every answered order and conversion, and nothing half-written, after a restart', async () => {
    dataDir = tempDataDir();
    const first = await startServer(dataDir);
    servers.push(first);
    const ledger: Ledger = { orders: [], conversions: [], unexpected: [] };
    let killed = false;
    const shoppers = Array.from({ length: SHOPPERS }, (_, shopper) => shop(first.url, ledger, shopper, () => killed));
    await until(() => ledger.conversions.length >= 6, 15_000);
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(shoppers);
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(ledger.unexpected).toEqual([]);
    expect(ledger.conversions.length).toBeGreaterThanOrEqual(6);

    const second = await startServer(dataDir);
    servers.push(second);
    const db = new Database(path.join(dataDir, 'app.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);

      const order = db.prepare('SELECT account_id AS account, (SELECT count(*) FROM order_lines WHERE order_id = id) AS lines FROM orders WHERE id = ?');
      for (const { id, account } of ledger.orders) expect(order.get(id), `order ${id}`).toEqual({ account, lines: 1 });

      const customer = db.prepare('SELECT email, is_anonymous, claimed_at IS NOT NULL AS claimed, password_hash LIKE \'$2%\' AS bcrypt FROM customers WHERE id = ?');
      for (const { id, email } of ledger.conversions) {
        expect(customer.get(id), `conversion of ${id}`).toEqual({ email, is_anonymous: 0, claimed: 1, bcrypt: 1 });
      }

      const count = (sql: string) => db.prepare(sql).pluck().get();
      expect(count('SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)')).toBe(0);
      expect(count(`SELECT count(*) FROM customers WHERE is_anonymous = 0 AND (claimed_at IS NULL OR password_hash LIKE 'sha256:%')`)).toBe(0);
      expect(count(`SELECT count(*) FROM customers WHERE is_anonymous = 1 AND password_hash NOT LIKE 'sha256:%'`)).toBe(0);
      expect(count(`SELECT count(*) FROM customers WHERE is_anonymous = 0`))
        .toBe(count(`SELECT count(*) FROM auth_events WHERE type = 'guest_converted'`));
      expect(count('SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = a.id) AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.id)')).toBe(0);
    } finally {
      db.close();
    }

    // And the restarted server serves them: a saved account signs in and sees its order.
    const { id, email } = ledger.conversions[0]!;
    const client = new Client(second.url);
    const signedIn = await client.submit('/login', { email, password: PASSWORD });
    expect(signedIn.status).toBe(303);
    const orderId = ledger.orders.find((order) => order.account === id)!.id;
    const page = await client.request(`/orders/${orderId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(orderId);
  });
});
