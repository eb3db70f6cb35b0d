import type Database from 'better-sqlite3';
import type { ClaimedMail, OutboxStore } from '../../mail/outbox.ts';
import { createLockWait, type LockWait } from './lock-wait.ts';
import { sqliteWrite } from './unit-of-work.ts';

const MAIL_COLUMNS = `id, recipient, subject, text, html, message_id AS messageId, created_at AS createdAt,
  attempts, locked_until AS lockedUntil`;

// The claim's guard, repeated by every outcome: the mail is still queued and still on the attempt
// this sender counted. A sender whose lease ran out finds another's attempt there and changes nothing.
const STILL_CLAIMED = `id = @id AND status = 'queued' AND attempts = @attempts`;

// A sent mail keeps its envelope (recipient, subject, Message-ID, when) and drops its body: the
// body holds links whose tokens are stored only as hashes everywhere else.
const SENT = `status = 'sent', sent_at = @now, locked_until = NULL, last_error = NULL, text = '', html = ''`;

// What the claim takes: queued, due, and not held by a sender whose lease still runs.
const DUE = `status = 'queued' AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until <= @now)`;

/**
 * The outbox in app.db. The sender's writes wait for the write lock on a timer (lock-wait.ts),
 * never inside a call that would stall the pages: they are background work.
 */
export function createSqliteOutboxStore(db: Database.Database, whenUnlocked: LockWait = createLockWait(db)): OutboxStore {
  const insert = db.prepare(`INSERT INTO outbox (id, recipient, subject, text, html, message_id, next_attempt_at, created_at)
    VALUES (@id, @recipient, @subject, @text, @html, @messageId, @createdAt, @createdAt)`);
  // A read first: the sender polls every second, and an UPDATE takes the write lock even when it
  // changes no row, so an idle outbox would make a write, and a wait behind cleanup, per poll.
  const anyDue = db.prepare(`SELECT 1 FROM outbox WHERE ${DUE} LIMIT 1`).pluck();
  // One UPDATE … RETURNING: SQLite runs it under the write lock, so no other connection (another
  // process on the same file) can take the same rows between the choice and the update.
  const claim = db.prepare(`UPDATE outbox SET attempts = attempts + 1, locked_until = @until
    WHERE id IN (SELECT id FROM outbox WHERE ${DUE} ORDER BY next_attempt_at, created_at LIMIT @limit)
    RETURNING ${MAIL_COLUMNS}, next_attempt_at AS due`);
  const sent = db.prepare(`UPDATE outbox SET ${SENT} WHERE ${STILL_CLAIMED}`);
  const retry = db.prepare(`UPDATE outbox SET next_attempt_at = @nextAt, locked_until = NULL, last_error = @error WHERE ${STILL_CLAIMED}`);
  const failed = db.prepare(`UPDATE outbox SET status = 'failed', locked_until = NULL, last_error = @error WHERE ${STILL_CLAIMED}`);
  const purge = db.prepare(`DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?`);
  const guard = (mail: ClaimedMail) => ({ id: mail.id, attempts: mail.attempts });

  return {
    enqueue: (mail) => sqliteWrite(() => void insert.run(mail)),
    async claim(now, limit, leaseMs) {
      if (anyDue.get({ now }) === undefined) return [];
      const rows = await whenUnlocked(() => claim.all({ now, limit, until: now + leaseMs }) as Array<ClaimedMail & { due: number }>);
      // RETURNING gives no order: oldest due first, as chosen.
      return rows.sort((a, b) => a.due - b.due || a.createdAt - b.createdAt).map(({ due: _, ...mail }) => mail);
    },
    markSent: (mail, now) => whenUnlocked(() => sent.run({ ...guard(mail), now }).changes === 1),
    markRetry: (mail, nextAt, error) => whenUnlocked(() => retry.run({ ...guard(mail), nextAt, error }).changes === 1),
    markFailed: (mail, error) => whenUnlocked(() => failed.run({ ...guard(mail), error }).changes === 1),
    purgeSent: (before) => whenUnlocked(() => purge.run(before).changes),
  };
}
