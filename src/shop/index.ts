import type { AccountHooks } from '../auth/accounts.ts';
import { newRecordId } from '../auth/credentials.ts';
import type { SessionKeys } from '../auth/identity.ts';
import type { ServiceFactory } from '../pages/request-helpers.ts';
import type { PageScope } from '../pages/scope.ts';
import { createCart } from './cart.ts';
import { parseNote } from './notes.ts';
import { parseShipping } from './orders.ts';
import { catalogue } from './products.ts';
import type { CartStore, NoteStore, OrderStore, ProductStore } from './stores.ts';

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

export interface ShopStores { products: ProductStore; carts: CartStore; orders: OrderStore; notes: NoteStore }

/**
 * The storefront: the services its pages `resolve()`, what happens to a guest's cart, orders and
 * notes when they sign in to an account (merge) or an account is deleted, and the signed-out
 * cart kept in the session across sign-in.
 */
export function registerShop(app: {
  stores: ShopStores; services: Map<string, ServiceFactory>; globals: Record<string, unknown>;
  hooks: AccountHooks; sessionKeys: SessionKeys; now(): number;
}): void {
  const { stores: { products, carts, orders, notes }, now } = app;

  const accountId = (scope: PageScope) => scope.visitor?.id ?? null;
  const signedIn = (scope: PageScope) => {
    const id = accountId(scope);
    if (!id) throw new Error('this service needs a signed-in visitor: call requireAuth() first');
    return id;
  };

  app.services.set('cart', (scope) => createCart({ req: scope.req, accountId: () => accountId(scope), carts, products, work: scope.work, now }));
  app.services.set('catalog', () => ({
    list: () => products.list(),
    find: async (id: unknown) => (typeof id === 'string' ? products.find(id) : null),
  }));
  app.services.set('orders', (scope) => ({
    /** Places the signed-in visitor's cart as an order; resolves to its id. */
    async place(form: Record<string, unknown>): Promise<string> {
      const id = newRecordId();
      await scope.work.run(orders.placeFromCart(signedIn(scope), id, parseShipping(form), now()));
      return id;
    },
    mine: () => orders.listFor(signedIn(scope)),
    /** The order if it belongs to the visitor, else null (pages answer 404: no hint it exists). */
    async forViewer(id: unknown) {
      const order = typeof id === 'string' ? await orders.find(id) : null;
      return order && order.accountId !== null && order.accountId === accountId(scope) ? order : null;
    },
  }));
  app.services.set('notes', (scope) => ({
    list: () => notes.list(signedIn(scope)),
    add: (body: unknown) => scope.work.run(notes.add(signedIn(scope), parseNote(body), now())),
    remove: (id: unknown) => scope.work.run(notes.remove(signedIn(scope), Number(id))),
  }));

  app.globals.money = (cents: number) => money.format(cents / 100);
  app.globals.formatDate = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

  app.hooks.merge.push((guestId, userId) => [carts.moveAll(guestId, userId), orders.moveAll(guestId, userId), notes.moveAll(guestId, userId)]);
  app.hooks.delete.push((id) => [orders.scrubFor(id)]);
  // A signed-out visitor's cart belongs to the browser: it survives signing in (and is then moved).
  app.sessionKeys.keep('cart');
}

