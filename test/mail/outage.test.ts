/**
 * The outage: the SMTP server stops for 10 s while shoppers check out. Every order is
 * placed (the visitor sees no error), every receipt arrives once the server is back, and none
 * arrives twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../db/postgres/backends.ts';
import { placeOrder, SHIPPING } from '../shop/shop.ts';
import { guestWithCart, startApp, type TestApp } from '../support.ts';
import { startSmtp, until, type SmtpHarness } from './smtp.ts';

const OUTAGE_MS = 10_000;
const CHECKOUTS = 5;

let smtp: SmtpHarness;
let app: TestApp;
beforeAll(async () => {
  smtp = await startSmtp();
  app = await startApp(smtp.env);
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an SMTP server that is down for 10 s during checkouts', () => {
  it('places every order, delivers every receipt after it is back, and none twice', async () => {
    await smtp.stop();
    const stoppedAt = Date.now();
    const placed: Array<{ id: string; email: string }> = [];
    // A checkout every 2 s while the server is down, each from a new guest.
    for (let i = 0; i < CHECKOUTS; i++) {
      const browser = app.browser();
      const email = `${uniqueId('outage')}@example.com`;
      await guestWithCart(browser, [['tea-tin', i + 1]]);
      placed.push({ id: await placeOrder(browser, { ...SHIPPING, email }), email });
      if (i < CHECKOUTS - 1) await pause(OUTAGE_MS / CHECKOUTS);
    }
    await pause(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
    // Meanwhile the sender tried and failed, and kept every receipt.
    expect(app.logs.some((line) => /attempt \d+ failed \(.*ECONNREFUSED/.test(line))).toBe(true);
    const waiting = await app.sql<{ status: string }>('SELECT status FROM outbox');
    expect(waiting.map((row) => row.status)).toEqual(placed.map(() => 'queued'));

    await smtp.start();
    const restartedAt = Date.now();
    const receipts = await Promise.all(placed.map(({ id, email }) => smtp.waitForMail(email, (mail) => mail.subject.endsWith(id))));
    for (const receipt of receipts) expect(receipt.receivedAt).toBeGreaterThanOrEqual(restartedAt);
    // Once every row is sent, nothing is left to send again: count what arrived.
    await until(async () => (await app.sql<{ status: string }>('SELECT status FROM outbox')).every((row) => row.status === 'sent'));
    for (const receipt of receipts) {
      expect(smtp.received.filter((mail) => mail.messageId === receipt.messageId)).toHaveLength(1);
    }
    expect(smtp.received).toHaveLength(CHECKOUTS);
    expect(await app.sql('SELECT id FROM orders ORDER BY created_at')).toEqual(placed.map(({ id }) => ({ id })));
  }, 90_000);
});
