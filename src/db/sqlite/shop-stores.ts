import type Database from 'better-sqlite3';
import { ShopError } from '../../shop/errors.ts';
import { checkCartIsExpected } from '../../shop/orders.ts';
import type { CartLine, CartStore, Note, NoteStore, Order, OrderLine, OrderLink, OrderStore, Product, ProductStore } from '../../shop/stores.ts';
import { createAccountWrite } from './account-writes.ts';
import { sqliteWrite } from './unit-of-work.ts';

export function createSqliteProductStore(db: Database.Database): ProductStore {
  const upsert = db.prepare(`INSERT INTO products (id, name, description, price_cents, image, position)
    VALUES (@id, @name, @description, @priceCents, @image, @position)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
      price_cents = excluded.price_cents, image = excluded.image, position = excluded.position`);
  const columns = 'id, name, description, price_cents AS priceCents, image';
  const all = db.prepare(`SELECT ${columns} FROM products ORDER BY position`);
  const one = db.prepare(`SELECT ${columns} FROM products WHERE id = ?`);
  return {
    seed: (products) => sqliteWrite(() => products.forEach((product, position) => upsert.run({ ...product, position }))),
    list: async () => all.all() as Product[],
    find: async (id) => (one.get(id) as Product | undefined) ?? null,
  };
}

// Adds to a line already there (at most 99). A product no longer listed adds nothing: a cart kept
// in a session since before the catalogue changed moves to the account without it.
const ADD_CART_LINE = `INSERT INTO cart_items (account_id, product_id, quantity, added_at)
    SELECT :accountId, id, :quantity, :now FROM products WHERE id = :productId
    ON CONFLICT (account_id, product_id) DO UPDATE SET quantity = min(99, quantity + excluded.quantity)`;

/** The cart store, and what the order store reads and clears inside its own write. */
export type SqliteCartStore = CartStore & { linesNow(accountId: string): CartLine[]; clear(accountId: string): void };

export function createSqliteCartStore(db: Database.Database): SqliteCartStore {
  const lines = db.prepare(`SELECT p.id AS productId, p.id, p.name, p.description, p.price_cents AS priceCents,
      p.image, c.quantity, p.price_cents * c.quantity AS lineCents
    FROM cart_items c JOIN products p ON p.id = c.product_id WHERE c.account_id = ? ORDER BY c.added_at, p.position`);
  const add = db.prepare(ADD_CART_LINE);
  // A write for a guest that cleanup deleted meanwhile fails as AccountGoneError, not as a bug.
  const forAccount = createAccountWrite(db);
  const set = db.prepare('UPDATE cart_items SET quantity = ? WHERE account_id = ? AND product_id = ?');
  const remove = db.prepare('DELETE FROM cart_items WHERE account_id = ? AND product_id = ?');
  const clear = db.prepare('DELETE FROM cart_items WHERE account_id = ?');
  const move = db.prepare(`INSERT INTO cart_items (account_id, product_id, quantity, added_at)
    SELECT ?, product_id, quantity, added_at FROM cart_items WHERE account_id = ?
    ON CONFLICT (account_id, product_id) DO UPDATE SET quantity = min(99, quantity + excluded.quantity)`);
  const linesNow = (accountId: string) => lines.all(accountId) as CartLine[];
  return {
    lines: async (accountId) => linesNow(accountId),
    add: (accountId, productId, quantity, now) => sqliteWrite(() => forAccount(accountId, () => void add.run({ accountId, productId, quantity, now }))),
    set: (accountId, productId, quantity) => sqliteWrite(() => void set.run(quantity, accountId, productId)),
    remove: (accountId, productId) => sqliteWrite(() => void remove.run(accountId, productId)),
    moveAll: (fromId, toId) => sqliteWrite(() => void move.run(toId, fromId)),
    // For the order store, inside its own write.
    linesNow,
    clear: (accountId) => void clear.run(accountId),
  };
}

export function createSqliteOrderStore(db: Database.Database, carts: SqliteCartStore): OrderStore {
  const insertOrder = db.prepare(`INSERT INTO orders (id, account_id, total_cents, name, address, city, postcode, created_at,
      receipt_email, link_hash, link_expires_at)
    VALUES (@id, @accountId, @totalCents, @name, @address, @city, @postcode, @createdAt, @email, @linkHash, @linkExpiresAt)`);
  const insertLine = db.prepare(`INSERT INTO order_lines (order_id, product_id, name, unit_price_cents, quantity, position)
    VALUES (?, ?, ?, ?, ?, ?)`);
  const columns = `id, account_id AS accountId, total_cents AS totalCents, name, address, city, postcode, created_at AS createdAt,
    receipt_email AS email`;
  const one = db.prepare(`SELECT ${columns} FROM orders WHERE id = ?`);
  const mine = db.prepare(`SELECT ${columns} FROM orders WHERE account_id = ? ORDER BY created_at DESC`);
  const lines = db.prepare(`SELECT product_id AS productId, name, unit_price_cents AS unitPriceCents, quantity,
    unit_price_cents * quantity AS lineCents FROM order_lines WHERE order_id = ? ORDER BY position`);
  const link = db.prepare(`SELECT link_hash AS hash, link_expires_at AS expiresAt FROM orders WHERE id = ? AND link_hash IS NOT NULL`);
  const renew = db.prepare('UPDATE orders SET link_hash = ?, link_expires_at = ? WHERE id = ?');
  // `account_id IS ?` is SQLite's null-safe equality: the owner is still who the caller saw, or still nobody.
  const attach = db.prepare(`UPDATE orders SET account_id = @to
    WHERE id = @id AND link_hash = @hash AND link_expires_at > @now AND account_id IS @from`);
  const move = db.prepare('UPDATE orders SET account_id = ? WHERE account_id = ?');
  // Accounting keeps the order, its lines, totals, date and the tax-relevant city and postcode.
  const scrub = db.prepare(`UPDATE orders SET account_id = NULL, name = 'Deleted customer', address = '',
    receipt_email = NULL, link_hash = NULL, link_expires_at = NULL WHERE account_id = ?`);

  const withLines = (order: Omit<Order, 'lines'>): Order => ({ ...order, lines: lines.all(order.id) as OrderLine[] });
  const forAccount = createAccountWrite(db);

  return {
    placeFromCart(accountId, id, checkout, now) {
      const { name, address, city, postcode, email = null, link: orderLink = null, expected } = checkout;
      return sqliteWrite(() => {
        // Read inside the write's transaction: a second click finds the cart already empty.
        const cart = carts.linesNow(accountId);
        if (cart.length === 0) throw new ShopError('empty_cart');
        checkCartIsExpected(cart, expected);
        const totalCents = cart.reduce((sum, line) => sum + line.lineCents, 0);
        insertOrder.run({
          id, accountId, totalCents, name, address, city, postcode, createdAt: now, email,
          linkHash: orderLink?.hash ?? null, linkExpiresAt: orderLink?.expiresAt ?? null,
        });
        cart.forEach((line, position) => insertLine.run(id, line.productId, line.name, line.priceCents, line.quantity, position));
        carts.clear(accountId);
      });
    },
    async find(id) {
      const order = one.get(id) as Omit<Order, 'lines'> | undefined;
      return order ? withLines(order) : null;
    },
    listFor: async (accountId) => (mine.all(accountId) as Array<Omit<Order, 'lines'>>).map(withLines),
    linkOf: async (id) => (link.get(id) as OrderLink | undefined) ?? null,
    renewLink: (id, { hash, expiresAt }) => sqliteWrite(() => void renew.run(hash, expiresAt, id)),
    attachWithLink: (id, hash, from, to, now) => sqliteWrite(() => forAccount(to, () => attach.run({ id, hash, from, to, now }).changes === 1)),
    moveAll: (fromId, toId) => sqliteWrite(() => void move.run(toId, fromId)),
    scrubFor: (accountId) => sqliteWrite(() => void scrub.run(accountId)),
  };
}

export function createSqliteNoteStore(db: Database.Database): NoteStore {
  const list = db.prepare(`SELECT id, body, created_at AS createdAt FROM notes WHERE account_id = ? ORDER BY created_at DESC, id DESC`);
  const add = db.prepare('INSERT INTO notes (account_id, body, created_at) VALUES (?, ?, ?)');
  const remove = db.prepare('DELETE FROM notes WHERE id = ? AND account_id = ?');
  const move = db.prepare('UPDATE notes SET account_id = ? WHERE account_id = ?');
  const forAccount = createAccountWrite(db);
  return {
    list: async (accountId) => list.all(accountId) as Note[],
    add: (accountId, body, now) => sqliteWrite(() => forAccount(accountId, () => void add.run(accountId, body, now))),
    remove: (accountId, id) => sqliteWrite(() => void remove.run(id, accountId)),
    moveAll: (fromId, toId) => sqliteWrite(() => void move.run(toId, fromId)),
  };
}
