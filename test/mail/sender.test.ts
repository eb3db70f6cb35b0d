/**
 * The sender delivers what the outbox holds: to an SMTP server, or as .eml files by default; it
 * retries while the server refuses or is down and delivers each mail once; it gives up after N
 * attempts and says so; two senders on one PostgreSQL database never send a mail twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStorage, type PostgresStorage } from '../../src/db/postgres/storage.ts';
import type { OutboxStore, OutgoingMail } from '../../src/mail/outbox.ts';
import { retryDelayMs, startSender, type Sender, type SenderOptions } from '../../src/mail/sender.ts';
import { folderTransport, smtpTransport } from '../../src/mail/transports.ts';
import { backends, COLLECTIONS, uniqueId, type Backend } from '../db/postgres/backends.ts';
import { startPostgres } from '../db/postgres/server.ts';
import { tempDataDir } from '../support.ts';
import { startSmtp, TEST_FROM, until, type SmtpHarness } from './smtp.ts';

const QUICK: SenderOptions = { pollMs: 50, retryBaseMs: 20, retryMaxMs: 100 };

function mail(recipient = `${uniqueId('to')}@example.com`): OutgoingMail {
  const id = uniqueId('mail');
  return {
    id, recipient, subject: `Your order ${id}`, text: 'Thank you.\nhttp://localhost:3000/orders/x?key=y\n',
    html: '<p>Thank you. <a href="http://localhost:3000/orders/x?key=y">Your order</a></p>',
    messageId: `<${id}@shop.example>`, createdAt: Date.now(),
  };
}

let smtp: SmtpHarness;
beforeAll(async () => { smtp = await startSmtp(); });
afterAll(() => smtp?.close());

describe('the wait before the next attempt', () => {
  it('is 1 s after the first failure and doubles after each, up to a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempts) => retryDelayMs(attempts, {}) / 1000)).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
  });

  it('lets a 10 s outage delay a mail by seconds: the attempt after it comes within 8 s of the server\'s return', () => {
    // Attempts at 0, 1, 3, 7 s fail during the outage; the next is at 15 s.
    const times = [0];
    for (let attempts = 1; times.at(-1)! < 10_000; attempts++) times.push(times.at(-1)! + retryDelayMs(attempts, {}));
    expect(times.at(-1)! - 10_000).toBeLessThanOrEqual(8_000);
  });
});

describe.each(backends())('the mail sender on %s', (_name, open) => {
  let db: Backend;
  let sender: Sender | undefined;
  let logs: string[];
  beforeEach(async () => {
    db = await open();
    logs = [];
  });
  afterEach(async () => {
    await sender?.stop();
    sender = undefined;
    smtp.refuseNext(0);
    await smtp.start();
    await db?.close();
  });

  const queue = (one: OutgoingMail) => db.transactor.apply(db.outbox.enqueue(one));
  const send = (transport: Parameters<typeof startSender>[0]['transport'], options: SenderOptions = QUICK) => {
    sender = startSender({ outbox: db.outbox, transport, now: Date.now, log: (line) => logs.push(line) }, options);
    return sender;
  };
  const toSmtp = (options?: SenderOptions) => send(smtpTransport(smtp.url, TEST_FROM), options);
  const deliveries = (messageId: string) => smtp.received.filter((received) => received.messageId === messageId).length;

  it('writes each mail as an .eml file in the outbox folder by default, and logs its subject, recipient and file', async () => {
    const dir = path.join(tempDataDir(), 'outbox');
    const queued = mail('ada@example.com');
    await queue(queued);
    send(folderTransport(dir, TEST_FROM)).poke();
    await until(async () => (await db.outboxRow(queued.id))?.status === 'sent');
    const files = fs.readdirSync(dir);
    expect(files).toEqual([expect.stringMatching(new RegExp(`-${queued.id}\\.eml$`))]);
    const file = path.join(dir, files[0]!);
    expect(logs).toEqual([`mail "${queued.subject}" to ada@example.com: ${file}`]);
    const parsed = await simpleParser(fs.readFileSync(file));
    expect(parsed.subject).toBe(queued.subject);
    expect(parsed.from?.value).toEqual([{ name: 'guestkit shop', address: 'shop@shop.example' }]);
    expect(parsed.to).toMatchObject({ text: 'ada@example.com' });
    expect(parsed.messageId).toBe(queued.messageId);
    expect(parsed.text).toBe(queued.text);
    expect(parsed.html).toBe(queued.html);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('delivers to the SMTP server with its Message-ID, both parts and an Auto-Submitted header', async () => {
    const queued = mail();
    await queue(queued);
    toSmtp().poke();
    const received = await smtp.waitForMail(queued.recipient);
    expect(received).toMatchObject({ to: [queued.recipient], from: 'shop@shop.example', subject: queued.subject, messageId: queued.messageId });
    expect(received.text).toBe(queued.text);
    expect(received.html).toBe(queued.html);
    expect(received.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    await until(async () => (await db.outboxRow(queued.id))?.status === 'sent');
    expect(await db.outboxRow(queued.id)).toMatchObject({ attempts: 1, last_error: null });
    expect(logs).toEqual([]);
  });

  it('retries a mail the server refuses for a while, and delivers it once', async () => {
    const queued = mail();
    smtp.refuseNext(3);
    await queue(queued);
    toSmtp().poke();
    await smtp.waitForMail(queued.recipient);
    await until(async () => (await db.outboxRow(queued.id))?.status === 'sent');
    expect(await db.outboxRow(queued.id)).toMatchObject({ attempts: 4, last_error: null });
    expect(deliveries(queued.messageId)).toBe(1);
    expect(logs.filter((line) => line.includes('failed (451 4.3.0 Try again later)'))).toHaveLength(3);
    expect(logs.at(-1)).toBe(`mail "${queued.subject}" to ${queued.recipient} delivered on attempt 4`);
  });

  it('keeps a mail while the server is down and delivers it once when it is back', async () => {
    await smtp.stop();
    const queued = mail();
    await queue(queued);
    toSmtp().poke();
    await until(async () => ((await db.outboxRow(queued.id))?.attempts ?? 0) >= 2);
    expect(await db.outboxRow(queued.id)).toMatchObject({ status: 'queued', last_error: expect.stringContaining('ECONNREFUSED') });
    await smtp.start();
    await smtp.waitForMail(queued.recipient);
    await until(async () => (await db.outboxRow(queued.id))?.status === 'sent');
    expect(deliveries(queued.messageId)).toBe(1);
  });

  it('marks a mail failed after the last attempt, logs it, and leaves it alone', async () => {
    const queued = mail();
    smtp.refuseNext(1_000);
    const refusedBefore = smtp.refused;
    await queue(queued);
    toSmtp({ ...QUICK, maxAttempts: 3 }).poke();
    await until(async () => (await db.outboxRow(queued.id))?.status === 'failed');
    expect(await db.outboxRow(queued.id)).toMatchObject({ attempts: 3, last_error: '451 4.3.0 Try again later', sent_at: null });
    expect(logs.at(-1)).toBe(`mail "${queued.subject}" to ${queued.recipient} failed after 3 attempts and will not be retried: 451 4.3.0 Try again later`);
    expect(smtp.refused - refusedBefore).toBe(3);
    expect(await db.outbox.claim(Date.now() + 3_600_000, 10, 60_000)).toEqual([]);
  });

  it('sends what was queued before it started, without being poked', async () => {
    const queued = mail();
    await queue(queued);
    toSmtp();
    await smtp.waitForMail(queued.recipient);
  });
});

describe('two app processes on one PostgreSQL database', () => {
  const storages: PostgresStorage[] = [];
  const senders: Sender[] = [];
  let stopPostgres: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await Promise.all(senders.map((one) => one.stop()));
    await Promise.all(storages.map((one) => one.close()));
    await stopPostgres?.();
  });

  it('deliver each mail once: the senders share the queue, never a mail', async () => {
    const server = await startPostgres();
    stopPostgres = () => server.stop();
    const databaseUrl = await server.createDatabase();
    // Two storages with pools of their own, as two processes have.
    for (let i = 0; i < 2; i++) storages.push(await openPostgresStorage({ databaseUrl, poolSize: 4, collections: COLLECTIONS }, Date.now));
    const mails = Array.from({ length: 60 }, () => mail());
    const [first] = storages;
    await Promise.all(mails.map((one) => first!.transactor.apply(first!.outbox.enqueue(one))));
    const sentBy = new Map<number, number>();
    const claimedBy = new Set<number>();
    storages.forEach((storage, index) => {
      const counting: OutboxStore = {
        ...storage.outbox,
        async claim(...args) {
          const claimed = await storage.outbox.claim(...args);
          if (claimed.length > 0) claimedBy.add(index);
          return claimed;
        },
        async markSent(...args) {
          const applied = await storage.outbox.markSent(...args);
          if (applied) sentBy.set(index, (sentBy.get(index) ?? 0) + 1);
          return applied;
        },
      };
      const smtpOut = smtpTransport(smtp.url, TEST_FROM);
      // Neither delivers before both hold mail: the two really work the queue at the same time.
      const transport = { ...smtpOut, deliver: async (one: OutgoingMail) => { await until(() => claimedBy.size === 2); return smtpOut.deliver(one); } };
      senders.push(startSender({ outbox: counting, transport, now: Date.now, log: () => {} }, { ...QUICK, batchSize: 3 }));
    });
    const ids = new Set(mails.map((one) => one.messageId));
    await until(() => smtp.received.filter((received) => ids.has(received.messageId)).length >= mails.length
      && [...sentBy.values()].reduce((sum, count) => sum + count, 0) === mails.length);
    const counts = new Map<string, number>();
    for (const received of smtp.received) if (ids.has(received.messageId)) counts.set(received.messageId, (counts.get(received.messageId) ?? 0) + 1);
    expect(counts.size).toBe(mails.length);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect([...sentBy.keys()].sort()).toEqual([0, 1]);
  });
});
