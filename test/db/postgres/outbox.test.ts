/**
 * The outbox, one contract for every backend: a mail is there only once what queued it commits;
 * senders claim due mail under a lease, never the same mail twice while a lease runs; outcomes
 * apply only to the claim that made them. SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutgoingMail } from '../../../src/mail/outbox.ts';
import { backends, uniqueId, type Backend } from './backends.ts';

const LEASE = 60_000;

let created = 0;
function mail(createdAt = 1_000 + ++created): OutgoingMail {
  const id = uniqueId('mail');
  return {
    id, recipient: 'ada@example.com', subject: `Subject ${id}`, text: 'Hello', html: '<p>Hello</p>',
    messageId: `<${id}@shop.example>`, createdAt,
  };
}

describe.each(backends())('the outbox on %s', (_name, open) => {
  let db: Backend;
  beforeEach(async () => { db = await open(); });
  afterEach(() => db?.close());

  const queue = (...mails: OutgoingMail[]) => Promise.all(mails.map((one) => db.transactor.apply(db.outbox.enqueue(one))));
  const ids = (claimed: Array<{ id: string }>) => claimed.map((one) => one.id);

  it('holds a mail only once the transaction that queued it commits', async () => {
    const kept = mail();
    const dropped = mail();
    const work = db.transactor.begin();
    work.defer(db.outbox.enqueue(kept));
    expect(await db.outbox.claim(10_000, 10, LEASE)).toEqual([]);
    await work.commit();
    const discarded = db.transactor.begin();
    discarded.defer(db.outbox.enqueue(dropped));
    discarded.discard();
    expect(ids(await db.outbox.claim(10_000, 10, LEASE))).toEqual([kept.id]);
    expect(await db.outboxRow(dropped.id)).toBeUndefined();
  });

  it('hands out a claimed mail as it was queued, counting the attempt and leasing it', async () => {
    const queued = mail();
    await queue(queued);
    const [claimed] = await db.outbox.claim(5_000, 10, LEASE);
    expect(claimed).toEqual({ ...queued, attempts: 1, lockedUntil: 5_000 + LEASE });
    expect(await db.outboxRow(queued.id)).toMatchObject({ status: 'queued', attempts: 1, locked_until: 5_000 + LEASE });
  });

  it('claims due mail oldest first, at most `limit`, and none of it again while the lease runs', async () => {
    const [first, second, third] = [mail(1_001), mail(1_002), mail(1_003)];
    await queue(third!, first!, second!);
    expect(ids(await db.outbox.claim(5_000, 2, LEASE))).toEqual([first!.id, second!.id]);
    expect(ids(await db.outbox.claim(5_001, 10, LEASE))).toEqual([third!.id]);
    expect(await db.outbox.claim(5_002, 10, LEASE)).toEqual([]);
  });

  it('keeps the subject and Message-ID of a sent mail, and drops its body, whose links carry tokens', async () => {
    const queued = mail();
    await queue(queued);
    const [claimed] = await db.outbox.claim(5_000, 10, LEASE);
    await db.outbox.markSent(claimed!, 5_100);
    expect(await db.outboxRow(queued.id)).toMatchObject({ status: 'sent', message_id: queued.messageId });
    expect(await db.outboxBody(queued.id)).toEqual({ text: '', html: '' });
  });

  it('gives a mail whose lease ran out to the next claim, and ignores what the first claimant says afterwards', async () => {
    const queued = mail();
    await queue(queued);
    const [stale] = await db.outbox.claim(5_000, 10, LEASE);
    const [fresh] = await db.outbox.claim(5_000 + LEASE, 10, LEASE);
    expect(fresh).toMatchObject({ id: queued.id, attempts: 2 });
    expect(await db.outbox.markRetry(stale!, 9_999_999, 'timed out')).toBe(false);
    expect(await db.outbox.markSent(stale!, 6_000)).toBe(false);
    expect(await db.outboxRow(queued.id)).toMatchObject({ status: 'queued', attempts: 2, last_error: null });
    expect(await db.outbox.markSent(fresh!, 70_000)).toBe(true);
    expect(await db.outboxRow(queued.id)).toMatchObject({ status: 'sent', sent_at: 70_000, locked_until: null });
  });

  it('keeps a mail to retry until its next attempt is due, with the reason it failed', async () => {
    const queued = mail();
    await queue(queued);
    const [claimed] = await db.outbox.claim(5_000, 10, LEASE);
    expect(await db.outbox.markRetry(claimed!, 8_000, 'connect ECONNREFUSED 127.0.0.1:2525')).toBe(true);
    expect(await db.outboxRow(queued.id)).toMatchObject({
      status: 'queued', attempts: 1, next_attempt_at: 8_000, locked_until: null, last_error: 'connect ECONNREFUSED 127.0.0.1:2525',
    });
    expect(await db.outbox.claim(7_999, 10, LEASE)).toEqual([]);
    expect(await db.outbox.claim(8_000, 10, LEASE)).toEqual([expect.objectContaining({ id: queued.id, attempts: 2 })]);
  });

  it('never claims a mail again once it is sent or has failed; a failed one keeps its last reason', async () => {
    const [sent, failed] = [mail(), mail()];
    await queue(sent, failed);
    const claimed = await db.outbox.claim(5_000, 10, LEASE);
    expect(await db.outbox.markSent(claimed.find((one) => one.id === sent.id)!, 5_100)).toBe(true);
    expect(await db.outbox.markFailed(claimed.find((one) => one.id === failed.id)!, '550 mailbox unavailable')).toBe(true);
    expect(await db.outbox.claim(5_000 + 10 * LEASE, 10, LEASE)).toEqual([]);
    expect(await db.outboxRow(failed.id)).toMatchObject({ status: 'failed', last_error: '550 mailbox unavailable', sent_at: null });
    // Its body stays, for whoever looks into why (and could queue it again by hand).
    expect(await db.outboxBody(failed.id)).toEqual({ text: 'Hello', html: '<p>Hello</p>' });
  });

  it('purges sent mail older than the cutoff and keeps the rest', async () => {
    const [old, recent, failed, waiting] = [mail(), mail(), mail(), mail()];
    await queue(old, recent, failed, waiting);
    const claimed = new Map((await db.outbox.claim(5_000, 3, LEASE)).map((one) => [one.id, one]));
    await db.outbox.markSent(claimed.get(old.id)!, 6_000);
    await db.outbox.markSent(claimed.get(recent.id)!, 9_000);
    await db.outbox.markFailed(claimed.get(failed.id)!, 'gave up');
    expect(await db.outbox.purgeSent(8_000)).toBe(1);
    expect(await db.outboxRow(old.id)).toBeUndefined();
    for (const kept of [recent, failed, waiting]) expect(await db.outboxRow(kept.id)).toBeDefined();
  });

  it('gives each mail to one claim only when many claim at the same moment', async () => {
    const mails = Array.from({ length: 40 }, () => mail());
    await queue(...mails);
    const claims = await Promise.all(Array.from({ length: 8 }, () => db.outbox.claim(5_000, 3, LEASE)));
    const taken = claims.flatMap(ids);
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.length).toBe(24);
    const rest = ids(await db.outbox.claim(5_000, 100, LEASE));
    expect(new Set([...taken, ...rest])).toEqual(new Set(ids(mails)));
  });
});
