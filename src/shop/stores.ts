/**
 * The storefront's storage, as ports (see auth/stores.ts for the shape): reads are async, writes
 * are `Write`s the request's unit of work applies. SQLite implementations: src/db/sqlite/.
 */
import type { Write } from '../db/unit-of-work.ts';

export interface Product { id: string; name: string; description: string; priceCents: number; image: string }

export interface CartLine extends Product { productId: string; quantity: number; lineCents: number }

export interface ShippingDetails { name: string; address: string; city: string; postcode: string }
export interface OrderLine { productId: string; name: string; unitPriceCents: number; quantity: number; lineCents: number }
export interface Order extends ShippingDetails {
  id: string; accountId: string | null; totalCents: number; createdAt: number; lines: OrderLine[];
  /** Where the receipt went (given at checkout; not a login). Null for orders placed before receipts. */
  email: string | null;
}

/** The order link a receipt carries: the SHA-256 of its random token, never the token, and when it stops working. */
export interface OrderLink { hash: string; expiresAt: number }

/** What checkout gives besides the cart. */
export interface Checkout extends ShippingDetails {
  /** The receipt's address. */
  email?: string | null;
  link?: OrderLink | null;
  /**
   * The lines the receipt lists (read just before): when given, the write fails with
   * `cart_changed` if the cart holds anything else when it is applied (another tab added to it),
   * so the order is always what its receipt says.
   */
  expected?: ReadonlyArray<Pick<CartLine, 'productId' | 'quantity' | 'lineCents'>>;
}

export interface Note { id: number; body: string; createdAt: number }

export interface ProductStore {
  /** Makes the stored catalogue match `products` (prices follow the code at every start). */
  seed(products: readonly Product[]): Write;
  list(): Promise<Product[]>;
  find(id: string): Promise<Product | null>;
}

/** Signed-in carts, keyed by account id (they go when the account goes). */
export interface CartStore {
  lines(accountId: string): Promise<CartLine[]>;
  /** Adds to a line (at most 99); a product that is not listed adds nothing. */
  add(accountId: string, productId: string, quantity: number, now: number): Write;
  set(accountId: string, productId: string, quantity: number): Write;
  remove(accountId: string, productId: string): Write;
  /** Adds one account's lines to another's (a guest merging into an account). */
  moveAll(fromId: string, toId: string): Write;
}

export interface OrderStore {
  /**
   * The account's cart as order `id`, its lines, and the emptied cart, all at once; prices are
   * those of the moment. Fails with `empty_cart` when the cart is empty when it is applied (a
   * double click on "Place order" places one order).
   */
  placeFromCart(accountId: string, id: string, checkout: Checkout, now: number): Write;
  find(id: string): Promise<Order | null>;
  /** The order's link, or null (no such order, or one placed before order links). */
  linkOf(id: string): Promise<OrderLink | null>;
  /** Gives the order a new link in place of its old one (a receipt sent again). */
  renewLink(id: string, link: OrderLink): Write;
  /**
   * Moves the order to account `to` through its link. Guarded: only while the link is `hash` and
   * not expired at `now`, and the order still belongs to `from` (a guest, or nobody once cleanup
   * removed the guest); resolves to whether it moved.
   */
  attachWithLink(id: string, hash: string, from: string | null, to: string, now: number): Write<boolean>;
  listFor(accountId: string): Promise<Order[]>;
  moveAll(fromId: string, toId: string): Write;
  /** Detaches an account's orders and removes its personal details, receipt address and link (accounting keeps the rest). */
  scrubFor(accountId: string): Write;
}

export interface NoteStore {
  list(accountId: string): Promise<Note[]>;
  add(accountId: string, body: string, now: number): Write;
  remove(accountId: string, id: number): Write;
  moveAll(fromId: string, toId: string): Write;
}
