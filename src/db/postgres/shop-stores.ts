import type pg from 'pg';
import { isStorableText } from '../../plain-text.ts';
import { ShopError } from '../../shop/errors.ts';
import { checkCartIsExpected } from '../../shop/orders.ts';
import type { CartLine, CartStore, Note, NoteStore, Order, OrderLine, OrderLink, OrderStore, Product, ProductStore } from '../../shop/stores.ts';
import { forAccount } from './errors.ts';
import { postgresWrite } from './unit-of-work.ts';

const PRODUCT_COLUMNS = 'id, name, description, price_cents AS "priceCents", image';

// The statements of page views are named: pg prepares each once per connection, and Postgres
// plans it once, instead of parsing and planning it at every request.
const ALL_PRODUCTS = { name: 'products_all', text: `SELECT ${PRODUCT_COLUMNS} FROM products ORDER BY position` };
const ONE_PRODUCT = { name: 'products_one', text: `SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = $1` };

export function createPostgresProductStore(pool: pg.Pool): ProductStore {
  // One statement for the whole catalogue; two processes starting at once just both update.
  const upsert = `INSERT INTO products (id, name, description, price_cents, image, position)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[])
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
      price_cents = excluded.price_cents, image = excluded.image, position = excluded.position`;
  return {
    seed: (products) => postgresWrite(async (client) => void await client.query(upsert, [
      products.map((p) => p.id), products.map((p) => p.name), products.map((p) => p.description),
      products.map((p) => p.priceCents), products.map((p) => p.image), products.map((_, position) => position),
    ])),
    list: async () => (await pool.query<Product>(ALL_PRODUCTS)).rows,
    find: async (id) => (isStorableText(id) ? (await pool.query<Product>({ ...ONE_PRODUCT, values: [id] })).rows[0] ?? null : null),
  };
}

// A line's product as the cart shows it; `c` is the line (cart_items, or the lines just taken).
const LINE_COLUMNS = `p.id AS "productId", p.id, p.name, p.description, p.price_cents AS "priceCents",
  p.image, c.quantity, p.price_cents * c.quantity AS "lineCents"`;

// Adds to a line already there (at most 99). A product no longer listed adds nothing: a cart kept
// in a session since before the catalogue changed moves to the account without it.
const ADD_CART_LINE = `INSERT INTO cart_items (account_id, product_id, quantity, added_at)
  SELECT $1, id, $2, $3 FROM products WHERE id = $4
  ON CONFLICT (account_id, product_id) DO UPDATE SET quantity = least(99, cart_items.quantity + excluded.quantity)`;

const MOVE_CART = `INSERT INTO cart_items (account_id, product_id, quantity, added_at)
  SELECT $1, product_id, quantity, added_at FROM cart_items WHERE account_id = $2
  ON CONFLICT (account_id, product_id) DO UPDATE SET quantity = least(99, cart_items.quantity + excluded.quantity)`;

export function createPostgresCartStore(pool: pg.Pool): CartStore {
  const lines = {
    name: 'cart_lines',
    text: `SELECT ${LINE_COLUMNS} FROM cart_items c JOIN products p ON p.id = c.product_id
      WHERE c.account_id = $1 ORDER BY c.added_at, p.position`,
  };
  return {
    lines: async (accountId) => (await pool.query<CartLine>({ ...lines, values: [accountId] })).rows,
    // A write for a guest that cleanup deleted meanwhile fails as AccountGoneError, not as a bug.
    add: (accountId, productId, quantity, now) => postgresWrite(async (client) =>
      void await forAccount(accountId, () => client.query(ADD_CART_LINE, [accountId, quantity, now, productId]))),
    set: (accountId, productId, quantity) => postgresWrite(async (client) =>
      void await client.query('UPDATE cart_items SET quantity = $1 WHERE account_id = $2 AND product_id = $3', [quantity, accountId, productId])),
    remove: (accountId, productId) => postgresWrite(async (client) =>
      void await client.query('DELETE FROM cart_items WHERE account_id = $1 AND product_id = $2', [accountId, productId])),
    moveAll: (fromId, toId) => postgresWrite(async (client) => void await client.query(MOVE_CART, [toId, fromId])),
  };
}

// Takes the cart's lines by deleting them, and reads them with their prices of this moment. The
// DELETE locks the lines: a second "Place order" for the same cart waits for the first to
// commit, then finds nothing to take (a plain SELECT would let both see the full cart).
const TAKE_CART = `WITH c AS (DELETE FROM cart_items WHERE account_id = $1 RETURNING product_id, quantity, added_at)
  SELECT ${LINE_COLUMNS} FROM c JOIN products p ON p.id = c.product_id ORDER BY c.added_at, p.position`;

const INSERT_ORDER = `INSERT INTO orders (id, account_id, total_cents, name, address, city, postcode, created_at,
    receipt_email, link_hash, link_expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;
const INSERT_LINES = `INSERT INTO order_lines (order_id, product_id, name, unit_price_cents, quantity, position)
  SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[])`;
const ORDER_COLUMNS = `id, account_id AS "accountId", total_cents AS "totalCents", name, address, city, postcode, created_at AS "createdAt",
  receipt_email AS email`;
// The owner is still who the caller saw, or still nobody (IS NOT DISTINCT FROM: equality where NULL equals NULL).
const ATTACH_WITH_LINK = `UPDATE orders SET account_id = $5
  WHERE id = $1 AND link_hash = $2 AND link_expires_at > $3 AND account_id IS NOT DISTINCT FROM $4`;
const ORDER_LINES = `SELECT order_id, product_id AS "productId", name, unit_price_cents AS "unitPriceCents", quantity,
  unit_price_cents * quantity AS "lineCents" FROM order_lines WHERE order_id = ANY ($1::text[]) ORDER BY position`;

export function createPostgresOrderStore(pool: pg.Pool): OrderStore {
  /** The orders with their lines, in one query for all of them. */
  async function withLines(orders: Array<Omit<Order, 'lines'>>): Promise<Order[]> {
    if (orders.length === 0) return [];
    const { rows } = await pool.query<OrderLine & { order_id?: string }>(ORDER_LINES, [orders.map((order) => order.id)]);
    return orders.map((order) => ({
      ...order,
      lines: rows.filter((line) => line.order_id === order.id).map(({ order_id: _, ...line }) => line),
    }));
  }

  return {
    placeFromCart(accountId, id, checkout, now) {
      const { name, address, city, postcode, email = null, link = null, expected } = checkout;
      return postgresWrite(async (client) => {
        const cart = (await client.query<CartLine>(TAKE_CART, [accountId])).rows;
        if (cart.length === 0) throw new ShopError('empty_cart');
        checkCartIsExpected(cart, expected); // throwing rolls back the lines just taken
        const totalCents = cart.reduce((sum, line) => sum + line.lineCents, 0);
        await client.query(INSERT_ORDER, [id, accountId, totalCents, name, address, city, postcode, now,
          email, link?.hash ?? null, link?.expiresAt ?? null]);
        await client.query(INSERT_LINES, [id, cart.map((line) => line.productId), cart.map((line) => line.name),
          cart.map((line) => line.priceCents), cart.map((line) => line.quantity), cart.map((_, position) => position)]);
      });
    },
    async find(id) {
      const { rows } = await pool.query<Omit<Order, 'lines'>>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
      return (await withLines(rows))[0] ?? null;
    },
    listFor: async (accountId) => withLines((await pool.query<Omit<Order, 'lines'>>(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE account_id = $1 ORDER BY created_at DESC`, [accountId])).rows),
    linkOf: async (id) => (await pool.query<OrderLink>(
      'SELECT link_hash AS hash, link_expires_at AS "expiresAt" FROM orders WHERE id = $1 AND link_hash IS NOT NULL', [id])).rows[0] ?? null,
    renewLink: (id, { hash, expiresAt }) => postgresWrite(async (client) =>
      void await client.query('UPDATE orders SET link_hash = $1, link_expires_at = $2 WHERE id = $3', [hash, expiresAt, id])),
    attachWithLink: (id, hash, from, to, now) => postgresWrite(async (client) =>
      (await forAccount(to, () => client.query(ATTACH_WITH_LINK, [id, hash, now, from, to]))).rowCount === 1),
    moveAll: (fromId, toId) => postgresWrite(async (client) =>
      void await client.query('UPDATE orders SET account_id = $1 WHERE account_id = $2', [toId, fromId])),
    // Accounting keeps the order, its lines, totals, date and the tax-relevant city and postcode.
    scrubFor: (accountId) => postgresWrite(async (client) => void await client.query(
      `UPDATE orders SET account_id = NULL, name = 'Deleted customer', address = '',
        receipt_email = NULL, link_hash = NULL, link_expires_at = NULL WHERE account_id = $1`, [accountId])),
  };
}

export function createPostgresNoteStore(pool: pg.Pool): NoteStore {
  const list = {
    name: 'notes_list',
    text: 'SELECT id, body, created_at AS "createdAt" FROM notes WHERE account_id = $1 ORDER BY created_at DESC, id DESC',
  };
  return {
    list: async (accountId) => (await pool.query<Note>({ ...list, values: [accountId] })).rows,
    add: (accountId, body, now) => postgresWrite(async (client) => void await forAccount(accountId,
      () => client.query('INSERT INTO notes (account_id, body, created_at) VALUES ($1, $2, $3)', [accountId, body, now]))),
    // Pages pass whatever the form said (`Number('x')` is NaN); no such note, so nothing to remove.
    remove: (accountId, id) => postgresWrite(async (client) => {
      if (Number.isSafeInteger(id)) await client.query('DELETE FROM notes WHERE id = $1 AND account_id = $2', [id, accountId]);
    }),
    moveAll: (fromId, toId) => postgresWrite(async (client) =>
      void await client.query('UPDATE notes SET account_id = $1 WHERE account_id = $2', [toId, fromId])),
  };
}
