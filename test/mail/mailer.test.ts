/**
 * The mailer renders a mail from its two templates and queues it on the unit of work of what
 * caused it: it is in the outbox when that commits and not otherwise, the sender is poked after
 * the commit, and nothing a template is given can reach a header or a second recipient.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MailTemplate } from '../../src/mail/mailer.ts';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.ts';
import { startSender } from '../../src/mail/sender.ts';
import { createMailTemplates } from '../../src/mail/templates.ts';
import { smtpTransport } from '../../src/mail/transports.ts';
import { backends, uniqueId, type Backend } from '../db/postgres/backends.ts';
import { startSmtp, TEST_FROM } from './smtp.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/mail/', import.meta.url));
const GREETING = 'greeting' as MailTemplate;

const templates = createMailTemplates({ dir: FIXTURES, cache: false });

describe('mail templates', () => {
  it('take the subject from the text template\'s front matter, and give a text part and an HTML part in the layout', () => {
    const mail = templates.render(GREETING, { name: 'Ada', link: 'https://shop.example/x?a=1&b=2' });
    expect(mail.subject).toBe('Hello Ada, welcome');
    expect(mail.text).toBe('Hello Ada,\n\nFollow this link: https://shop.example/x?a=1&b=2\n');
    expect(mail.html).toContain('<p><a href="https://shop.example/x?a=1&amp;b=2">Follow this link</a></p>');
    expect(mail.html).toMatch(/^<!doctype html>[\s\S]*guestkit shop[\s\S]*<p>Hello Ada,<\/p>[\s\S]*<\/html>\n$/);
  });

  it('escape what they are given in the HTML part, and leave the text part as written', () => {
    const mail = templates.render(GREETING, { name: '<script>alert(1)</script> & "you"', link: 'x' });
    expect(mail.html).toContain('<p>Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;you&quot;,</p>');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain('Hello <script>alert(1)</script> & "you",');
  });

  it('keep the subject on one line whatever a value holds: a line break cannot start a header', () => {
    const mail = templates.render(GREETING, { name: 'Ada\r\nBcc: victim@example.com\n\n---\nsubject: x', link: 'x' });
    expect(mail.subject).toBe('Hello Ada Bcc: victim@example.com --- subject: x, welcome');
  });

  it('refuse a text template without front matter, naming the file', () => {
    expect(() => templates.render('layout-only' as MailTemplate, {})).toThrow(/layout-only\.text\.eta/);
  });
});

describe.each(backends())('the mailer on %s', (_name, open) => {
  let db: Backend;
  let pokes: number;
  beforeEach(async () => {
    db = await open();
    pokes = 0;
  });
  afterEach(() => db?.close());

  const mailerFor = (from = TEST_FROM) => createOutboxMailer({ outbox: db.outbox, templates, from, now: () => 1_234, poke: () => { pokes++; } });
  const due = () => db.outbox.claim(Date.now(), 100, 60_000);
  const greeting = (to = `${uniqueId('to')}@example.com`) => ({ template: GREETING, to, data: { name: 'Ada', link: 'https://shop.example/x' } });

  it('queues the mail with the unit of work: in the outbox once it commits, and the sender poked after', async () => {
    const work = db.transactor.begin();
    const request = greeting();
    mailerFor().send(work, request);
    expect(await due()).toEqual([]);
    expect(pokes).toBe(0);
    await work.commit();
    expect(pokes).toBe(1);
    const [queued] = await due();
    expect(queued).toMatchObject({
      recipient: request.to, subject: 'Hello Ada, welcome', text: expect.stringContaining('https://shop.example/x'),
      html: expect.stringContaining('<p>Hello Ada,</p>'), createdAt: 1_234, attempts: 1,
    });
    // A Message-ID of its own, in the sender's domain, fixed with the row for every attempt.
    expect(queued!.messageId).toBe(`<${queued!.id}@shop.example>`);
  });

  it('queues nothing when the render that sent it is discarded', async () => {
    const work = db.transactor.begin();
    mailerFor().send(work, greeting());
    work.discard();
    await work.commit();
    expect(await due()).toEqual([]);
    expect(pokes).toBe(0);
  });

  it('leaves nothing when the write it is composed beside fails, even after the next commit', async () => {
    const email = `${uniqueId('taken')}@example.com`;
    const account = (id: string) => ({ id, email, username: email, name: null, passwordHash: 'h', isAnonymous: false, now: 1, metadata: {} });
    await db.transactor.apply(db.records.insert('users', account(uniqueId('user'))));
    const work = db.transactor.begin();
    const receipt = mailerFor().compose(work, greeting());
    await expect(work.run(db.records.insert('users', account(uniqueId('user'))), receipt)).rejects.toMatchObject({ code: 'email_in_use' });
    await work.commit();
    expect(await due()).toEqual([]);
  });

  it.each([
    ['a list of addresses', 'ada@example.com, eve@example.com'],
    ['a line break and a header', 'ada@example.com\r\nBcc: eve@example.com'],
    ['a display name', 'Ada <ada@example.com>'],
    ['no address at all', 'ada'],
  ])('refuses a recipient that is %s, and queues nothing', async (_what, to) => {
    const work = db.transactor.begin();
    expect(() => mailerFor().send(work, greeting(to))).toThrow(/not a single plain address/);
    await work.commit();
    expect(await due()).toEqual([]);
  });

  it('sends a mail whose values hold line breaks with exactly the headers it should have', async () => {
    const smtp = await startSmtp();
    const sender = startSender({ outbox: db.outbox, transport: smtpTransport(smtp.url, TEST_FROM), now: Date.now, log: () => {} }, { pollMs: 50 });
    try {
      const to = `${uniqueId('to')}@example.com`;
      const work = db.transactor.begin();
      mailerFor().send(work, { template: GREETING, to, data: { name: 'Ada\r\nBcc: eve@example.com\r\n', link: 'x\r\nCc: eve@example.com' } });
      await work.commit();
      sender.poke();
      const received = await smtp.waitForMail(to);
      expect(received.to).toEqual([to]);
      expect(received.parsed.headers.has('bcc')).toBe(false);
      expect(received.parsed.headers.has('cc')).toBe(false);
      expect(received.subject).toBe('Hello Ada Bcc: eve@example.com , welcome');
    } finally {
      await sender.stop();
      await smtp.close();
    }
  });
});
