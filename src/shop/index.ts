import type { AccountHooks } from '../auth/accounts.ts';
import type { SessionKeys } from '../auth/identity.ts';
import type { AccountStore } from '../auth/stores.ts';
import { createRateLimiter, type LimitStore } from '../http/rate-limit.ts';
import type { MailLimits } from '../mail/mail-limits.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { ServiceFactory } from '../pages/request-helpers.ts';
import { createCart } from './cart.ts';
import { formatDate, formatMoney } from './format.ts';
import { parseNote } from './notes.ts';
import { createOrderService } from './order-service.ts';
import type { CartStore, NoteStore, OrderStore, ProductStore } from './stores.ts';
import { accountIdOf, signedInAccountId } from './visitor.ts';

// Receipts sent again (a link that expired): a few a minute per order, besides the mail limits.
const RESENDS_PER_ORDER = 3;

export interface ShopStores { products: ProductStore; carts: CartStore; orders: OrderStore; notes: NoteStore }

/**
 * The storefront: the services its pages `resolve()`, what happens to a guest's cart, orders and
 * notes when they sign in to an account (merge) or an account is deleted, and the signed-out
 * cart kept in the session across sign-in.
 */
export function registerShop(app: {
  stores: ShopStores; services: Map<string, ServiceFactory>; globals: Record<string, unknown>;
  hooks: AccountHooks; sessionKeys: SessionKeys; now(): number;
  /** For receipts: who owns an order, the mail and its limits, the links' origin, where limits count. */
  records: AccountStore; mailer: Mailer; mailLimits: MailLimits; appUrl: string; limits: LimitStore;
}): void {
  const { stores: { products, carts, orders, notes }, now, records, mailer, mailLimits, appUrl } = app;
  const resendsPerOrder = createRateLimiter(RESENDS_PER_ORDER, 'receipt-resends', app.limits);

  app.services.set('cart', (scope) => createCart({ req: scope.req, accountId: () => accountIdOf(scope), ownsNothingYet: (id) => scope.ownsNothingYet(id), carts, products, work: scope.work, now }));
  app.services.set('catalog', () => ({
    list: () => products.list(),
    find: async (id: unknown) => (typeof id === 'string' ? products.find(id) : null),
  }));
  app.services.set('orders', (scope) => createOrderService(scope, { orders, carts, records, mailer, mailLimits, resendsPerOrder, appUrl, now }));
  app.services.set('notes', (scope) => ({
    list: () => {
      const id = signedInAccountId(scope);
      return scope.ownsNothingYet(id) ? Promise.resolve([]) : notes.list(id);
    },
    add: (body: unknown) => scope.work.run(notes.add(signedInAccountId(scope), parseNote(body), now())),
    remove: (id: unknown) => scope.work.run(notes.remove(signedInAccountId(scope), Number(id))),
  }));

  app.globals.money = formatMoney;
  app.globals.formatDate = formatDate;

  app.hooks.merge.push((guestId, userId) => [carts.moveAll(guestId, userId), orders.moveAll(guestId, userId), notes.moveAll(guestId, userId)]);
  app.hooks.delete.push((id) => [orders.scrubFor(id)]);
  // A signed-out visitor's cart belongs to the browser: it survives signing in (and is then moved).
  app.sessionKeys.keep('cart');
}

