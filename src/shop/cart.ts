import type { Request } from 'express';
import type { UnitOfWork } from '../db/unit-of-work.ts';
import { ShopError } from './errors.ts';
import type { CartLine, CartStore, Product, ProductStore } from './stores.ts';

/** A signed-out visitor's cart, kept in their session as product id → quantity. */
type SessionCart = Record<string, number>;

declare module 'express-session' {
  interface SessionData { cart?: SessionCart }
}

function parseQuantity(raw: unknown): number {
  const quantity = typeof raw === 'string' && /^\d{1,2}$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!(quantity >= 1 && quantity <= 99)) throw new ShopError('invalid_quantity', 'quantity');
  return quantity;
}

export interface Cart {
  lines(): Promise<CartLine[]>;
  count(): Promise<number>;
  totalCents(): Promise<number>;
  /** Adds `quantity` of a product; resolves to the product. */
  add(productId: unknown, quantity: unknown): Promise<Product>;
  update(productId: unknown, quantity: unknown): Promise<void>;
  remove(productId: unknown): Promise<void>;
  /**
   * Moves the session cart onto the account `id` (stored under that id). Synchronous, as seed
   * 003 calls it right after `signInAnonymously()`: the lines are queued on the render's unit of
   * work behind the new guest, and commit with it or not at all.
   */
  associateWithUser(id: string): void;
}

/**
 * The cart a page sees through `resolve('cart')`: in the session until the visitor signs in,
 * then stored under their account id. A session cart met by a signed-in visitor is moved over,
 * so signing in from checkout never loses it.
 */
export function createCart(deps: {
  req: Request; accountId: () => string | null;
  /** An account the render just made owns no lines yet: nothing to read (PageScope.ownsNothingYet). */
  ownsNothingYet(id: string): boolean;
  carts: CartStore; products: ProductStore; work: UnitOfWork; now(): number;
}): Cart {
  const { req, carts, products, work, now } = deps;

  async function product(id: unknown): Promise<Product> {
    const found = typeof id === 'string' ? await products.find(id) : null;
    if (!found) throw new ShopError('unknown_product', 'productId');
    return found;
  }

  let moved = false;
  /**
   * The session's lines as writes onto account `id`. The session lets go of them only once they
   * are committed: if the move fails, the visitor still has their cart.
   */
  function moveSessionLines(id: string) {
    const session = req.session;
    const cartOf = session.cart;
    // Once per render: the lines stay in the session until the commit, and must not move twice.
    if (!cartOf || moved) return [];
    moved = true;
    work.afterCommit(() => { if (session.cart === cartOf) delete session.cart; });
    return Object.entries(cartOf).map(([productId, quantity]) => carts.add(id, productId, quantity, now()));
  }

  /** The signed-in account, with any cart still in the session moved onto it first. */
  async function signedInAccount(): Promise<string | null> {
    const id = deps.accountId();
    const [first, ...rest] = id ? moveSessionLines(id) : [];
    if (first) await work.run(first, ...rest);
    return id;
  }

  // A page reads the cart several times (header badge, lines, total): read it once until it changes.
  let cached: { accountId: string | null; lines: Promise<CartLine[]> } | undefined;
  async function readLines(): Promise<CartLine[]> {
    const id = await signedInAccount();
    if (id) return deps.ownsNothingYet(id) ? [] : carts.lines(id);
    const lines: CartLine[] = [];
    for (const [productId, quantity] of Object.entries(req.session.cart ?? {})) {
      const found = await products.find(productId);
      if (found) lines.push({ ...found, productId, quantity, lineCents: found.priceCents * quantity });
    }
    return lines;
  }

  const cart: Cart = {
    lines() {
      const accountId = deps.accountId();
      if (!cached || cached.accountId !== accountId) cached = { accountId, lines: readLines() };
      return cached.lines;
    },
    count: async () => (await cart.lines()).reduce((sum, line) => sum + line.quantity, 0),
    totalCents: async () => (await cart.lines()).reduce((sum, line) => sum + line.lineCents, 0),

    async add(productId, rawQuantity) {
      cached = undefined;
      const quantity = parseQuantity(rawQuantity);
      const found = await product(productId);
      const id = await signedInAccount();
      if (id) await work.run(carts.add(id, found.id, quantity, now()));
      else {
        const lines = (req.session.cart ??= {});
        lines[found.id] = Math.min(99, (lines[found.id] ?? 0) + quantity);
      }
      return found;
    },

    async update(productId, rawQuantity) {
      cached = undefined;
      const quantity = parseQuantity(rawQuantity);
      const found = await product(productId);
      const id = await signedInAccount();
      if (id) await work.run(carts.set(id, found.id, quantity));
      else if (req.session.cart?.[found.id]) req.session.cart[found.id] = quantity;
    },

    async remove(productId) {
      cached = undefined;
      const found = await product(productId);
      const id = await signedInAccount();
      if (id) await work.run(carts.remove(id, found.id));
      else if (req.session.cart) delete req.session.cart[found.id];
    },

    associateWithUser(id) {
      cached = undefined;
      for (const write of moveSessionLines(id)) work.defer(write);
    },
  };
  return cart;
}
