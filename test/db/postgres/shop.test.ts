/**
 * The shop's stores, one contract for every backend: the catalogue, carts, orders and notes as
 * shoppers see them, and what happens to them when an account goes. SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Write } from '../../../src/db/unit-of-work.ts';
import { AccountGoneError } from '../../../src/errors.ts';
import { ShopError } from '../../../src/shop/errors.ts';
import { catalogue } from '../../../src/shop/products.ts';
import { backends, uniqueId, type Backend } from './backends.ts';

const shipping = { name: 'Ada Lovelace', address: '12 St James Sq', city: 'London', postcode: 'SW1Y 4JH' };

describe.each(backends())('the shop on %s', (_name, open) => {
  let db: Backend;
  beforeAll(async () => { db = await open(); });
  afterAll(() => db?.close());

  const apply = <T>(write: Write<T>) => db.transactor.apply(write);
  /** A guest account to hang a cart, orders and notes on. */
  async function account(): Promise<string> {
    const id = uniqueId('shopper');
    await apply(db.records.insert('users', {
      id, email: `${id}@guest.invalid`, username: `guest_${id}`, name: null, passwordHash: 'h', isAnonymous: true, now: 1, metadata: {},
    }));
    return id;
  }
  /** A guest's order with a receipt address and a link (hash `h`, until 9 000), and another account. */
  async function linkedOrder() {
    const guest = await account();
    const member = await account();
    await apply(db.shop.carts.add(guest, 'tea-tin', 1, 1));
    const orderId = uniqueId('order');
    await apply(db.shop.orders.placeFromCart(guest, orderId, { ...shipping, email: 'ada@example.com', link: { hash: 'h', expiresAt: 9_000 } }, 1));
    return { guest, member, orderId };
  }
  const quantities = async (id: string) => (await db.shop.carts.lines(id)).map((line) => [line.productId, line.quantity]);

  it('lists the catalogue in its order, finds a product, and follows the code when reseeded', async () => {
    expect((await db.shop.products.list()).map((product) => product.id)).toEqual(catalogue.map((product) => product.id));
    expect(await db.shop.products.find('ember-mug')).toEqual(catalogue[0]);
    expect(await db.shop.products.find('no-such-thing')).toBeNull();
    await apply(db.shop.products.seed(catalogue.map((product) => ({ ...product, priceCents: product.priceCents + 1 }))));
    expect((await db.shop.products.find('ember-mug'))?.priceCents).toBe(1801);
    await apply(db.shop.products.seed(catalogue));
    expect((await db.shop.products.find('ember-mug'))?.priceCents).toBe(1800);
  });

  it('shows cart lines in the order added, with product details and line totals', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'tea-tin', 2, 10));
    await apply(db.shop.carts.add(id, 'ember-mug', 1, 20));
    expect(await db.shop.carts.lines(id)).toEqual([
      { ...catalogue.find((product) => product.id === 'tea-tin'), productId: 'tea-tin', quantity: 2, lineCents: 3000 },
      { ...catalogue[0], productId: 'ember-mug', quantity: 1, lineCents: 1800 },
    ]);
  });

  it('adds to a line already in the cart, at most 99, and adds nothing for a product not listed', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'ember-mug', 60, 1));
    await apply(db.shop.carts.add(id, 'ember-mug', 60, 2));
    await apply(db.shop.carts.add(id, 'discontinued-kettle', 1, 3));
    expect(await quantities(id)).toEqual([['ember-mug', 99]]);
  });

  it('sets and removes a line', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'ember-mug', 1, 1));
    await apply(db.shop.carts.add(id, 'tea-tin', 1, 2));
    await apply(db.shop.carts.set(id, 'ember-mug', 5));
    await apply(db.shop.carts.remove(id, 'tea-tin'));
    expect(await quantities(id)).toEqual([['ember-mug', 5]]);
  });

  it('moves a guest cart into an account, adding up lines both have, at most 99', async () => {
    const from = await account();
    const to = await account();
    await apply(db.shop.carts.add(from, 'ember-mug', 50, 1));
    await apply(db.shop.carts.add(from, 'tea-tin', 1, 2));
    await apply(db.shop.carts.add(to, 'ember-mug', 70, 0));
    await apply(db.shop.carts.moveAll(from, to));
    expect(await quantities(to)).toEqual([['ember-mug', 99], ['tea-tin', 1]]);
  });

  it('places the cart as an order at the prices of the moment, and empties the cart', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'ember-mug', 2, 1));
    await apply(db.shop.carts.add(id, 'tea-tin', 1, 2));
    const orderId = uniqueId('order');
    await apply(db.shop.orders.placeFromCart(id, orderId, shipping, 5_000));
    expect(await db.shop.orders.find(orderId)).toEqual({
      id: orderId, accountId: id, totalCents: 5100, ...shipping, email: null, createdAt: 5_000, lines: [
        { productId: 'ember-mug', name: 'Ember Mug', unitPriceCents: 1800, quantity: 2, lineCents: 3600 },
        { productId: 'tea-tin', name: 'Sencha Tea Tin', unitPriceCents: 1500, quantity: 1, lineCents: 1500 },
      ],
    });
    expect(await db.shop.carts.lines(id)).toEqual([]);
    expect(await db.shop.orders.find('no-such-order')).toBeNull();
  });

  it('places one order for two "Place order" clicks that overlap: the second fails with empty_cart', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'oak-board', 1, 1));
    const place = (...alongside: Write[]) => db.transactor.begin().run(db.shop.orders.placeFromCart(id, uniqueId('order'), shipping, 6_000), ...alongside)
      .then(() => 'placed', (error: unknown) => (error instanceof ShopError ? error.code : error));
    // The second click arrives while the first order is written but not yet committed.
    const pause = db.pause(300);
    const first = place(pause.write);
    await pause.reached;
    const second = place().finally(pause.release);
    expect([await first, await second]).toEqual(['placed', 'empty_cart']);
    expect(await db.shop.orders.listFor(id)).toHaveLength(1);
  });

  it('keeps the receipt address and the link hash with the order, and fails with cart_changed when the cart is not what the receipt lists', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'ember-mug', 2, 1));
    const link = { hash: 'hash-of-a-token', expiresAt: 9_000 };
    const expected = [{ productId: 'ember-mug', quantity: 2, lineCents: 3600 }];
    // Another tab added a line after the receipt was rendered: no order, the cart as it is.
    await apply(db.shop.carts.add(id, 'candle', 1, 2));
    const changed = uniqueId('order');
    await expect(apply(db.shop.orders.placeFromCart(id, changed, { ...shipping, email: 'ada@example.com', link, expected }, 5_000)))
      .rejects.toMatchObject({ code: 'cart_changed' });
    expect(await db.shop.orders.find(changed)).toBeNull();
    expect(await quantities(id)).toEqual([['ember-mug', 2], ['candle', 1]]);
    await apply(db.shop.carts.remove(id, 'candle'));
    const orderId = uniqueId('order');
    await apply(db.shop.orders.placeFromCart(id, orderId, { ...shipping, email: 'ada@example.com', link, expected }, 5_000));
    expect(await db.shop.orders.find(orderId)).toMatchObject({ email: 'ada@example.com', totalCents: 3600 });
    expect(await db.shop.orders.linkOf(orderId)).toEqual(link);
    expect(await db.shop.orders.linkOf('no-such-order')).toBeNull();
    await apply(db.shop.orders.renewLink(orderId, { hash: 'another-hash', expiresAt: 12_000 }));
    expect(await db.shop.orders.linkOf(orderId)).toEqual({ hash: 'another-hash', expiresAt: 12_000 });
  });

  it('moves an order to another account through its link only while the link holds and the owner is who was seen', async () => {
    const { guest, member, orderId } = await linkedOrder();
    expect(await apply(db.shop.orders.attachWithLink(orderId, 'wrong-hash', guest, member, 2))).toBe(false);
    expect(await apply(db.shop.orders.attachWithLink(orderId, 'h', guest, member, 9_000))).toBe(false); // expired
    expect(await apply(db.shop.orders.attachWithLink(orderId, 'h', null, member, 2))).toBe(false); // not nobody's
    expect(await apply(db.shop.orders.attachWithLink(orderId, 'h', guest, member, 8_999))).toBe(true);
    expect(await db.shop.orders.find(orderId)).toMatchObject({ accountId: member });
    expect(await apply(db.shop.orders.attachWithLink(orderId, 'h', guest, guest, 3))).toBe(false); // moved meanwhile
    // A detached order (its guest removed by cleanup) is nobody's: `from` null matches it.
    await apply(db.shop.orders.scrubFor(member));
    expect(await db.shop.orders.find(orderId)).toMatchObject({ accountId: null, email: null });
    expect(await db.shop.orders.linkOf(orderId)).toBeNull();
  });

  it('moves a detached order (nobody owns it) through its link', async () => {
    const { guest, member, orderId } = await linkedOrder();
    await apply(db.records.delete(guest));
    expect(await db.shop.orders.find(orderId)).toMatchObject({ accountId: null, email: 'ada@example.com' });
    expect(await apply(db.shop.orders.attachWithLink(orderId, 'h', null, member, 2))).toBe(true);
    expect(await db.shop.orders.listFor(member)).toEqual([expect.objectContaining({ id: orderId })]);
  });

  it('lists an account\'s orders newest first, moves them to another account, and scrubs them for deletion', async () => {
    const from = await account();
    const to = await account();
    for (const [orderId, at] of [['older', 1_000], ['newer', 2_000]] as const) {
      await apply(db.shop.carts.add(from, 'notebook', 1, at));
      await apply(db.shop.orders.placeFromCart(from, `${from}-${orderId}`, shipping, at));
    }
    expect((await db.shop.orders.listFor(from)).map((order) => [order.id, order.lines.length])).toEqual([[`${from}-newer`, 1], [`${from}-older`, 1]]);
    await apply(db.shop.orders.moveAll(from, to));
    expect(await db.shop.orders.listFor(from)).toEqual([]);
    expect(await db.shop.orders.listFor(to)).toHaveLength(2);
    await apply(db.shop.orders.scrubFor(to));
    expect(await db.shop.orders.find(`${from}-newer`)).toMatchObject({
      accountId: null, name: 'Deleted customer', address: '', city: 'London', postcode: 'SW1Y 4JH', totalCents: 1900,
    });
  });

  it('lists notes newest first (the later of two at the same time first), removes only the owner\'s, and moves them', async () => {
    const id = await account();
    const other = await account();
    await apply(db.shop.notes.add(id, 'first', 100));
    await apply(db.shop.notes.add(id, 'second', 100));
    await apply(db.shop.notes.add(id, 'third', 50));
    const notes = await db.shop.notes.list(id);
    expect(notes.map((note) => [note.body, note.createdAt])).toEqual([['second', 100], ['first', 100], ['third', 50]]);
    expect(notes.every((note) => typeof note.id === 'number')).toBe(true);

    await apply(db.shop.notes.remove(other, notes[0]!.id));
    await apply(db.shop.notes.remove(id, Number('not-a-number')));
    expect(await db.shop.notes.list(id)).toHaveLength(3);
    await apply(db.shop.notes.remove(id, notes[0]!.id));
    await apply(db.shop.notes.moveAll(id, other));
    expect((await db.shop.notes.list(other)).map((note) => note.body)).toEqual(['first', 'third']);
  });

  it('takes a deleted account\'s cart and notes with it, and keeps its orders, detached', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'tea-tin', 1, 1));
    await apply(db.shop.orders.placeFromCart(id, `${id}-order`, shipping, 1));
    await apply(db.shop.carts.add(id, 'ember-mug', 1, 2));
    await apply(db.shop.notes.add(id, 'kept?', 3));
    expect(await apply(db.records.delete(id))).toBe(true);
    expect(await db.shop.carts.lines(id)).toEqual([]);
    expect(await db.shop.notes.list(id)).toEqual([]);
    expect(await db.shop.orders.find(`${id}-order`)).toMatchObject({ accountId: null, name: 'Ada Lovelace', totalCents: 1500 });
  });

  it('fails a cart or note write for an account deleted meanwhile with AccountGoneError, naming it', async () => {
    const id = await account();
    await apply(db.records.delete(id));
    await expect(apply(db.shop.carts.add(id, 'ember-mug', 1, 1))).rejects.toThrow(new AccountGoneError(id));
    await expect(apply(db.shop.notes.add(id, 'too late', 1))).rejects.toBeInstanceOf(AccountGoneError);
    // A product no longer listed adds no row, so there is nothing to fail.
    await expect(apply(db.shop.carts.add(id, 'discontinued-kettle', 1, 1))).resolves.toBeUndefined();
  });

  it('lets other constraint failures through as the bugs they are, not as AccountGoneError', async () => {
    const id = await account();
    await apply(db.shop.carts.add(id, 'ember-mug', 1, 1));
    const failure = await apply(db.shop.carts.set(id, 'ember-mug', 100)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(AccountGoneError);
    expect(await quantities(id)).toEqual([['ember-mug', 1]]);
  });
});
