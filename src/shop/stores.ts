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
  placeFromCart(accountId: string, id: string, shipping: ShippingDetails, now: number): Write;
  find(id: string): Promise<Order | null>;
  listFor(accountId: string): Promise<Order[]>;
  moveAll(fromId: string, toId: string): Write;
  /** Detaches an account's orders and removes its personal details (accounting keeps the rest). */
  scrubFor(accountId: string): Write;
}

export interface NoteStore {
  list(accountId: string): Promise<Note[]>;
  add(accountId: string, body: string, now: number): Write;
  remove(accountId: string, id: number): Write;
  moveAll(fromId: string, toId: string): Write;
}
