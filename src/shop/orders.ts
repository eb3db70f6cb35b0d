import type { Db } from '../db/open.ts';
import { newRecordId } from '../auth/credentials.ts';
import type { CartStore } from './cart.ts';
import { validateAll } from '../errors.ts';
import { ShopError } from './errors.ts';

export interface ShippingDetails { name: string; address: string; city: string; postcode: string }
export interface OrderLine { productId: string; name: string; unitPriceCents: number; quantity: number; lineCents: number }
export interface Order extends ShippingDetails {
  id: string; accountId: string | null; totalCents: number; createdAt: number; lines: OrderLine[];
}

const FIELDS = ['name', 'address', 'city', 'postcode'] as const;

/** Trimmed shipping fields; throws `invalid_field` for every empty or over-long one at once. */
export function parseShipping(form: Record<string, unknown>): ShippingDetails {
  const field = (name: typeof FIELDS[number]) => () => {
    const value = typeof form[name] === 'string' ? (form[name] as string).trim() : '';
    if (!value || [...value].length > 200) throw new ShopError('invalid_field', name);
    return value;
  };
  return validateAll(Object.fromEntries(FIELDS.map((name) => [name, field(name)])) as Record<typeof FIELDS[number], () => string>);
}

export type OrderStore = ReturnType<typeof createOrderStore>;

export function createOrderStore(db: Db, carts: CartStore) {
  const insertOrder = db.prepare(`INSERT INTO orders (id, account_id, total_cents, name, address, city, postcode, created_at)
    VALUES (@id, @accountId, @totalCents, @name, @address, @city, @postcode, @createdAt)`);
  const insertLine = db.prepare(`INSERT INTO order_lines (order_id, product_id, name, unit_price_cents, quantity, position)
    VALUES (?, ?, ?, ?, ?, ?)`);
  const columns = `id, account_id AS accountId, total_cents AS totalCents, name, address, city, postcode, created_at AS createdAt`;
  const one = db.prepare(`SELECT ${columns} FROM orders WHERE id = ?`);
  const mine = db.prepare(`SELECT ${columns} FROM orders WHERE account_id = ? ORDER BY created_at DESC`);
  const lines = db.prepare(`SELECT product_id AS productId, name, unit_price_cents AS unitPriceCents, quantity,
    unit_price_cents * quantity AS lineCents FROM order_lines WHERE order_id = ? ORDER BY position`);
  const move = db.prepare('UPDATE orders SET account_id = ? WHERE account_id = ?');
  // Accounting keeps the order, its lines, totals, date and the tax-relevant city and postcode.
  const scrub = db.prepare(`UPDATE orders SET account_id = NULL, name = 'Deleted customer', address = '' WHERE account_id = ?`);

  const withLines = (order: Omit<Order, 'lines'> | undefined): Order | null =>
    order ? { ...order, lines: lines.all(order.id) as OrderLine[] } : null;

  return {
    /** Order, lines and the emptied cart in one transaction; prices are those of the moment. */
    place(accountId: string, shipping: ShippingDetails, now: number): string {
      return db.transaction(() => {
        const cart = carts.lines(accountId);
        if (cart.length === 0) throw new ShopError('empty_cart');
        const id = newRecordId();
        const totalCents = cart.reduce((sum, line) => sum + line.lineCents, 0);
        insertOrder.run({ id, accountId, totalCents, ...shipping, createdAt: now });
        cart.forEach((line, position) => insertLine.run(id, line.productId, line.name, line.priceCents, line.quantity, position));
        carts.clear(accountId);
        return id;
      }).immediate();
    },
    find: (id: string) => withLines(one.get(id) as Omit<Order, 'lines'> | undefined),
    listFor: (accountId: string) => (mine.all(accountId) as Array<Omit<Order, 'lines'>>).map((order) => withLines(order)!),
    moveAll: (fromId: string, toId: string) => void move.run(toId, fromId),
    scrubFor: (accountId: string) => void scrub.run(accountId),
  };
}
