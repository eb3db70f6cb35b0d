import type { AccountHooks } from '../auth/accounts.ts';
import type { Db } from '../db/open.ts';
import type { ServiceFactory } from '../pages/helpers.ts';
import type { PageScope } from '../pages/scope.ts';
import { createCart, createCartStore } from './cart.ts';
import { createNoteStore } from './notes.ts';
import { createOrderStore, parseShipping } from './orders.ts';
import { createProductStore } from './products.ts';

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/**
 * The storefront: its stores, the services its pages `resolve()`, what happens to a guest's
 * cart, orders and notes when they sign in to an account (merge) or an account is deleted.
 */
export function registerShop(app: {
  db: Db; services: Map<string, ServiceFactory>; globals: Record<string, unknown>; hooks: AccountHooks; now(): number;
}): void {
  const { db, now } = app;
  const products = createProductStore(db);
  const carts = createCartStore(db);
  const orders = createOrderStore(db, carts);
  const notes = createNoteStore(db);
  products.seed();

  const accountId = (scope: PageScope) => scope.auth?.id ?? null;
  const signedIn = (scope: PageScope) => {
    const id = accountId(scope);
    if (!id) throw new Error('this service needs a signed-in visitor: call requireAuth() first');
    return id;
  };

  app.services.set('cart', (scope) => createCart({ req: scope.req, accountId: () => accountId(scope), carts, products, now }));
  app.services.set('catalog', () => ({ list: products.list, find: products.find }));
  app.services.set('orders', (scope) => ({
    /** Places the signed-in visitor's cart as an order; returns its id. */
    place: (form: Record<string, unknown>) => orders.place(signedIn(scope), parseShipping(form), now()),
    mine: () => orders.listFor(signedIn(scope)),
    /** The order if it belongs to the visitor, else null (pages answer 404: no hint it exists). */
    forViewer(id: unknown) {
      const order = typeof id === 'string' ? orders.find(id) : null;
      return order && order.accountId !== null && order.accountId === accountId(scope) ? order : null;
    },
  }));
  app.services.set('notes', (scope) => ({
    list: () => notes.list(signedIn(scope)),
    add: (body: unknown) => notes.add(signedIn(scope), body, now()),
    remove: (id: unknown) => notes.remove(signedIn(scope), id),
  }));

  app.globals.money = (cents: number) => money.format(cents / 100);
  app.globals.formatDate = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

  app.hooks.merge.push((guestId, userId) => {
    carts.moveAll(guestId, userId);
    orders.moveAll(guestId, userId);
    notes.moveAll(guestId, userId);
  });
  app.hooks.delete.push((id) => orders.scrubFor(id));
}
