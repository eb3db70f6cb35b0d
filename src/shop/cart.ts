import type { Request } from 'express';
import { createAccountWrite } from '../db/account-writes.ts';
import type { Db } from '../db/open.ts';
import { ShopError } from './errors.ts';
import type { Product, ProductStore } from './products.ts';

export interface CartLine extends Product { productId: string; quantity: number; lineCents: number }

/** A signed-out visitor's cart, kept in their session as product id → quantity. */
type SessionCart = Record<string, number>;

declare module 'express-session' {
  interface SessionData { cart?: SessionCart }
}

export type CartStore = ReturnType<typeof createCartStore>;

/** Signed-in carts: `cart_items` rows keyed by account id (they go when the account goes). */
export function createCartStore(db: Db) {
  const lines = db.prepare(`SELECT p.id AS productId, p.id, p.name, p.description, p.price_cents AS priceCents,
      p.image, c.quantity, p.price_cents * c.quantity AS lineCents
    FROM cart_items c JOIN products p ON p.id = c.product_id WHERE c.account_id = ? ORDER BY c.added_at, p.position`);
  const add = db.prepare(`INSERT INTO cart_items (account_id, product_id, quantity, added_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (account_id, product_id) DO UPDATE SET quantity = min(99, quantity + excluded.quantity)`);
  const set = db.prepare('UPDATE cart_items SET quantity = ? WHERE account_id = ? AND product_id = ?');
  const remove = db.prepare('DELETE FROM cart_items WHERE account_id = ? AND product_id = ?');
  const clear = db.prepare('DELETE FROM cart_items WHERE account_id = ?');
  const forAccount = createAccountWrite(db);
  const move = db.prepare(`INSERT INTO cart_items (account_id, product_id, quantity, added_at)
    SELECT ?, product_id, quantity, added_at FROM cart_items WHERE account_id = ?
    ON CONFLICT (account_id, product_id) DO UPDATE SET quantity = min(99, quantity + excluded.quantity)`);

  return {
    lines: (accountId: string) => lines.all(accountId) as CartLine[],
    add: (accountId: string, productId: string, quantity: number, now: number) =>
      forAccount(accountId, () => void add.run(accountId, productId, quantity, now)),
    set: (accountId: string, productId: string, quantity: number) => void set.run(quantity, accountId, productId),
    remove: (accountId: string, productId: string) => void remove.run(accountId, productId),
    clear: (accountId: string) => void clear.run(accountId),
    /** Adds one account's lines to another's (a guest merging into an account); the caller deletes the source. */
    moveAll: (fromId: string, toId: string) => void move.run(toId, fromId),
  };
}

export function parseQuantity(raw: unknown): number {
  const quantity = typeof raw === 'string' && /^\d{1,2}$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!(quantity >= 1 && quantity <= 99)) throw new ShopError('invalid_quantity', 'quantity');
  return quantity;
}

/**
 * The cart a page sees through `resolve('cart')`: in the session until the visitor signs in,
 * then in SQLite under their account id. A session cart met by a signed-in visitor is moved
 * over, so signing in from checkout never loses it.
 */
export function createCart(deps: { req: Request; accountId: () => string | null; carts: CartStore; products: ProductStore; now(): number }) {
  const { req, carts, products, now } = deps;

  function product(id: unknown): Product {
    const found = products.find(id);
    if (!found) throw new ShopError('unknown_product', 'productId');
    return found;
  }

  function signedInAccount(): string | null {
    const id = deps.accountId();
    if (id && req.session.cart) cart.associateWithUser(id);
    return id;
  }

  // A page reads the cart several times (header badge, lines, total): read it once until it changes.
  let cached: { accountId: string | null; lines: CartLine[] } | undefined;
  function readLines(): CartLine[] {
    const id = signedInAccount();
    if (id) return carts.lines(id);
    return Object.entries(req.session.cart ?? {}).flatMap(([productId, quantity]) => {
      const found = products.find(productId);
      return found ? [{ ...found, productId, quantity, lineCents: found.priceCents * quantity }] : [];
    });
  }

  const cart = {
    lines(): CartLine[] {
      const accountId = deps.accountId();
      if (!cached || cached.accountId !== accountId) cached = { accountId, lines: readLines() };
      return cached.lines;
    },
    count: () => cart.lines().reduce((sum, line) => sum + line.quantity, 0),
    totalCents: () => cart.lines().reduce((sum, line) => sum + line.lineCents, 0),

    add(productId: unknown, rawQuantity: unknown): Product {
      cached = undefined;
      const found = product(productId);
      const quantity = parseQuantity(rawQuantity);
      const id = signedInAccount();
      if (id) carts.add(id, found.id, quantity, now());
      else {
        const lines = (req.session.cart ??= {});
        lines[found.id] = Math.min(99, (lines[found.id] ?? 0) + quantity);
      }
      return found;
    },

    update(productId: unknown, rawQuantity: unknown): void {
      cached = undefined;
      const found = product(productId);
      const quantity = parseQuantity(rawQuantity);
      const id = signedInAccount();
      if (id) carts.set(id, found.id, quantity);
      else if (req.session.cart?.[found.id]) req.session.cart[found.id] = quantity;
    },

    remove(productId: unknown): void {
      cached = undefined;
      const found = product(productId);
      const id = signedInAccount();
      if (id) carts.remove(id, found.id);
      else if (req.session.cart) delete req.session.cart[found.id];
    },

    /** Moves the session cart onto the account `id` (stored in SQLite, keyed by that id). */
    associateWithUser(id: string): void {
      cached = undefined;
      const lines = req.session.cart;
      if (!lines) return;
      for (const [productId, quantity] of Object.entries(lines)) {
        if (products.find(productId)) carts.add(id, productId, quantity, now());
      }
      delete req.session.cart;
    },
  };
  return cart;
}

export type Cart = ReturnType<typeof createCart>;
