import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guestWithCart, startApp, type TestApp } from '../support.ts';

let app: TestApp;
beforeEach(async () => { app = await startApp(); });
afterEach(async () => { await app.close(); });

describe('guest checkout (seed 003)', () => {
  it('creates a customers guest, moves the session cart onto its id, and redirects to checkout', async () => {
    const browser = app.browser();
    const response = await guestWithCart(browser, [['ember-mug', 2], ['candle', 1]]);
    expect(response.headers.location).toBe('/checkout');
    const guests = app.ctx.db.prepare('SELECT id, is_anonymous FROM customers').all() as Array<{ id: string; is_anonymous: number }>;
    expect(guests).toHaveLength(1);
    expect(guests[0]!.is_anonymous).toBe(1);
    const cart = app.ctx.db.prepare('SELECT product_id, quantity FROM cart_items WHERE account_id = ? ORDER BY product_id').all(guests[0]!.id);
    expect(cart).toEqual([{ product_id: 'candle', quantity: 1 }, { product_id: 'ember-mug', quantity: 2 }]);
    const checkout = await browser.get('/checkout');
    expect(checkout.text).toContain('Place order');
  });
});
