/**
 * Load for the fault specs: shoppers behind a round-robin load balancer, each request of a
 * browser going to the next live app process. A round is one new browser: it adds to the cart,
 * checks out as a guest, places an order and saves its account. The ledger keeps every answer
 * and every request that got none, and the orders and conversions the app answered for, so a
 * spec can check they are all in the database afterwards.
 */
import pg from 'pg';
import { Client, guestIdOf, type Reply } from './server-process.ts';

export const PASSWORD = 'correct horse battery';

export interface Answer {
  server: string;
  path: string;
  /** What a working app answers to this request. */
  expected: number;
  status: number;
  retryAfter: string | null;
  text: string;
}

export interface Ledger {
  answers: Answer[];
  /** Requests that got no answer at all (the process was killed, the connection reset). */
  unanswered: Array<{ server: string; path: string; error: string }>;
  /** Orders the app answered for (a 303 to the order's page), with the guest who placed them. */
  orders: Array<{ id: string; account: string }>;
  /** Conversions the app answered for (a 303), with the email saved. */
  conversions: Array<{ id: string; email: string }>;
}

export function newLedger(): Ledger {
  return { answers: [], unanswered: [], orders: [], conversions: [] };
}

export interface ShopperOptions {
  /** The processes to send the next request to; read before every request. */
  servers(): readonly string[];
  /** Rounds stop starting once this is true (the round under way finishes or fails). */
  done(): boolean;
}

/** The round stops at an answer other than the one a working app gives. */
class RoundFailed extends Error {}

/** One shopper: rounds one after another until `done()`. Returns the rounds completed. */
export async function shop(ledger: Ledger, shopper: number, options: ShopperOptions): Promise<number> {
  let completed = 0;
  for (let round = 0; !options.done(); round++) {
    // A round is an even number of requests: starting each one a process further on sends the
    // pages of one round and the posts of the next to the same process, so each sees both.
    let step = shopper + round;
    // Only its cookies matter: every request goes `via` the process whose turn it is.
    const browser = new Client('');
    const send = async (path: string, expected: number, form?: Record<string, string>): Promise<Reply> => {
      const servers = options.servers();
      const server = servers[step++ % servers.length]!;
      let reply: Reply;
      try {
        reply = await browser.via(server).request(path, form);
      } catch (error) {
        ledger.unanswered.push({ server, path, error: String((error as Error).cause ?? error) });
        throw new RoundFailed();
      }
      ledger.answers.push({ server, path, expected, status: reply.status, retryAfter: reply.headers.get('retry-after'), text: reply.text });
      if (reply.status !== expected) throw new RoundFailed();
      return reply;
    };
    /** GETs `path` from one process and posts its form, with that page's token, to the next. */
    const submit = async (path: string, fields: Record<string, string>) => {
      const token = /name="_csrf" value="([^"]+)"/.exec((await send(path, 200)).text)?.[1];
      return send(path, 303, { _csrf: token ?? '', ...fields });
    };
    try {
      await submit('/products/candle', { productId: 'candle', quantity: '2' });
      await submit('/checkout', { action: 'guest-checkout' });
      const account = guestIdOf(browser);
      const order = await submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: 'Ada', address: '1 Road', city: 'Town', postcode: '1000' });
      ledger.orders.push({ id: order.location!.split('/').pop()!, account });
      const email = `shopper-${shopper}-${round}@example.com`;
      await submit('/account', { action: 'convert-guest', email, password: PASSWORD });
      ledger.conversions.push({ id: account, email });
      completed++;
    } catch (error) {
      if (!(error instanceof RoundFailed)) throw error;
    }
  }
  return completed;
}

/** Waits until `condition` holds, checking every 20 ms; fails after `ms` (a hang, not a timing). */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * What the database says about the ledger and about half-done work. Every list is empty, and
 * every count 0, when each answered write is there and nothing is partly applied.
 */
export async function auditDatabase(databaseUrl: string, ledger: Ledger) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const count = async (sql: string) => Number((await db.query<{ count: string }>(sql)).rows[0]!.count);
    const missingOrders: string[] = [];
    for (const { id, account } of ledger.orders) {
      const { rows } = await db.query('SELECT account_id, (SELECT count(*)::int FROM order_lines WHERE order_id = id) AS lines FROM orders WHERE id = $1', [id]);
      if (rows[0]?.account_id !== account || rows[0]?.lines !== 1) missingOrders.push(id);
    }
    const missingConversions: string[] = [];
    for (const { id, email } of ledger.conversions) {
      const { rows } = await db.query(`SELECT email, is_anonymous, claimed_at IS NOT NULL AS claimed, password_hash LIKE '$2%' AS bcrypt
        FROM customers WHERE id = $1`, [id]);
      const row = rows[0];
      if (!row || row.email !== email || row.is_anonymous || !row.claimed || !row.bcrypt) missingConversions.push(id);
    }
    return {
      missingOrders,
      missingConversions,
      halfWritten: {
        accountsWithoutRecord: await count(`SELECT count(*) FROM accounts a
          WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = a.id) AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.id)`),
        guestsWithoutCreatedEvent: await count(`SELECT count(*) FROM customers c WHERE c.is_anonymous
          AND NOT EXISTS (SELECT 1 FROM auth_events e WHERE e.type = 'guest_created' AND e.record_id = c.id)`),
        ordersWithoutLines: await count('SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)'),
        conversionsHalfApplied: await count(`SELECT count(*) FROM customers WHERE
          (NOT is_anonymous AND (claimed_at IS NULL OR password_hash LIKE 'sha256:%')) OR (is_anonymous AND password_hash NOT LIKE 'sha256:%')`),
        conversionsWithoutEvent: await count(`SELECT count(*) FROM customers c WHERE NOT c.is_anonymous
          AND NOT EXISTS (SELECT 1 FROM auth_events e WHERE e.type = 'guest_converted' AND e.record_id = c.id)`),
      },
    };
  } finally {
    await db.end();
  }
}

/** What `auditDatabase` answers when everything is in order. */
export const INTACT = {
  missingOrders: [], missingConversions: [],
  halfWritten: { accountsWithoutRecord: 0, guestsWithoutCreatedEvent: 0, ordersWithoutLines: 0, conversionsHalfApplied: 0, conversionsWithoutEvent: 0 },
};
