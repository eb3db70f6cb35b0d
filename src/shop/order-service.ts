import { normalizeEmail } from '../auth/email-address.ts';
import { newRecordId } from '../auth/record-ids.ts';
import type { AccountStore, StoredRecord } from '../auth/stores.ts';
import type { RateLimiter, Reservation } from '../http/rate-limit.ts';
import type { MailLimits } from '../mail/mail-limits.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { PageScope } from '../pages/scope.ts';
import { ShopError } from './errors.ts';
import { newOrderLink, orderLinkHash, orderLinkOpens, orderLinkUrl } from './order-links.ts';
import { parseCheckout } from './orders.ts';
import { receiptMail } from './receipts.ts';
import type { CartStore, Order, OrderLink, OrderStore } from './stores.ts';
import { accountIdOf, signedInAccountId } from './visitor.ts';

/** An order as its receipt link shows it, to whoever follows the link. */
export interface LinkedOrder {
  order: Order;
  /** The visitor placed it: it is their guest's, or their account's. */
  mine: boolean;
  /**
   * No registered account holds it: it is still its guest's, or nobody's (cleanup removed the
   * guest, and detached orders stay). An account with its receipt address may take it in.
   */
  adoptable: boolean;
}

export interface OrderService {
  /** Places the signed-in visitor's cart as an order and queues its receipt, in one transaction; resolves to its id. */
  place(form: Record<string, unknown>): Promise<string>;
  mine(): Promise<Order[]>;
  /** The order if it belongs to the visitor, else null (pages answer 404: no hint it exists). */
  forViewer(id: unknown): Promise<Order | null>;
  /** The order a receipt link opens, or null for a garbled, expired or unknown link (the page answers 400). */
  byLink(id: unknown, key: unknown): Promise<LinkedOrder | null>;
  /** Moves the linked order into the signed-in account, if that account has the order's receipt address; whether it moved. */
  addToAccount(id: unknown, key: unknown): Promise<boolean>;
  /** Mails the receipt again, with a new link, if `email` is where it went; the same answer (nothing) either way. */
  resendLink(id: unknown, email: unknown): Promise<void>;
}

export interface OrderServiceDeps {
  orders: OrderStore;
  carts: CartStore;
  records: AccountStore;
  mailer: Mailer;
  /** Every receipt takes a point per client address and per recipient. */
  mailLimits: MailLimits;
  /** Receipts sent again, per order. */
  resendsPerOrder: RateLimiter;
  appUrl: string;
  now(): number;
}

/**
 * The orders a page `resolve('orders')`s, and what keeps a guest's order reachable: its receipt
 * carries a link (a random token, kept hashed on the order, 30 days) that shows that one order on
 * any device without signing in, and from which an account can be made that takes the order in.
 */
export function createOrderService(scope: PageScope, deps: OrderServiceDeps): OrderService {
  const { orders, carts, records, mailer, mailLimits, resendsPerOrder, appUrl, now } = deps;
  const client = () => scope.req.ip ?? 'unknown';
  const viewerId = () => accountIdOf(scope);
  const signedIn = () => signedInAccountId(scope);

  /** An account by id, whatever its collection. */
  async function accountOf(id: string): Promise<StoredRecord | null> {
    for (const collection of records.collections) {
      const found = await records.find(collection, id);
      if (found) return found;
    }
    return null;
  }

  /** The receipt of `order` with a new link; `offersAccount` when no registered account holds it. */
  const receiptOf = (order: Omit<Order, 'email'> & { email: string }, token: string, link: OrderLink, offersAccount: boolean) => receiptMail({
    orderId: order.id, email: order.email, placedAt: order.createdAt, lines: order.lines, totalCents: order.totalCents,
    shipping: order, link: orderLinkUrl(appUrl, order.id, token), linkExpiresAt: link.expiresAt, offersAccount,
  });

  /** The reservation, or `rate_limited` (429, with Retry-After) when it was refused. */
  async function granted(reservation: Promise<Reservation>): Promise<Reservation> {
    const taken = await reservation;
    if (!taken.granted) throw new ShopError('rate_limited', undefined, taken.retryAfterSeconds);
    return taken;
  }

  const service: OrderService = {
    async place(form) {
      const accountId = signedIn();
      const { email, ...shipping } = parseCheckout(form);
      // The receipt lists these lines; the write places them only if the cart still holds exactly them.
      const lines = await carts.lines(accountId);
      if (lines.length === 0) throw new ShopError('empty_cart');
      const mail = await granted(mailLimits.reserve(client(), email));
      const placedAt = now();
      const id = newRecordId(placedAt);
      const { token, link } = newOrderLink(placedAt);
      const totalCents = lines.reduce((sum, line) => sum + line.lineCents, 0);
      const receipt = mailer.compose(scope.work, receiptOf({
        id, accountId, email, createdAt: placedAt, totalCents, ...shipping,
        lines: lines.map((line) => ({ ...line, unitPriceCents: line.priceCents })),
      }, token, link, scope.visitor?.isAnonymous === true));
      try {
        // The order and its receipt commit together, or neither does (an emptied cart, a changed one).
        await scope.work.run(orders.placeFromCart(accountId, id, { ...shipping, email, link, expected: lines }, placedAt), receipt);
      } catch (error) {
        mail.refund(); // no order, so no receipt went out
        throw error;
      }
      return id;
    },

    mine: () => orders.listFor(signedIn()),

    async forViewer(id) {
      const order = typeof id === 'string' ? await orders.find(id) : null;
      return order && order.accountId !== null && order.accountId === viewerId() ? order : null;
    },

    async byLink(id, key) {
      if (typeof id !== 'string' || !orderLinkOpens(await orders.linkOf(id), key, now())) return null;
      const order = await orders.find(id);
      if (!order) return null;
      const mine = order.accountId !== null && order.accountId === viewerId();
      const owner = order.accountId === null || mine ? null : await accountOf(order.accountId);
      const adoptable = !mine && order.email !== null && (order.accountId === null || owner?.isAnonymous === true);
      return { order, mine, adoptable };
    },

    async addToAccount(id, key) {
      const linked = await service.byLink(id, key);
      const visitor = viewerId();
      if (!linked?.adoptable || !visitor) return false;
      // Only into an account with the receipt's address: the order goes where its receipt went,
      // never to whoever holds a forwarded link under an address of their own.
      const account = await accountOf(visitor);
      if (!account || account.isAnonymous || account.email !== linked.order.email) return false;
      // Guarded on the owner seen above: a guest that converted meanwhile keeps its order.
      return scope.work.run(orders.attachWithLink(linked.order.id, orderLinkHash(key as string), linked.order.accountId, account.id, now()));
    },

    async resendLink(id, email) {
      const address = normalizeEmail(email);
      // Counted whether or not a mail goes out: the limits say nothing about which addresses are right.
      await granted(mailLimits.reserve(client(), address));
      if (typeof id !== 'string') return;
      await granted(resendsPerOrder.reserve(id));
      // Only an order whose receipt went to this address gets a new one, and only there: whoever
      // asks learns nothing, since the answer is the same and the link goes to the receipt's inbox.
      const order = await orders.find(id);
      if (!order || order.email !== address) return;
      const { token, link } = newOrderLink(now());
      const owner = order.accountId === null ? null : await accountOf(order.accountId);
      const receipt = receiptOf({ ...order, email: order.email }, token, link, !owner || owner.isAnonymous);
      await scope.work.run(orders.renewLink(order.id, link), mailer.compose(scope.work, receipt));
    },
  };
  return service;
}
