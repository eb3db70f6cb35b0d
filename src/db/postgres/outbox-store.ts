import type pg from 'pg';
import type { ClaimedMail, OutboxStore } from '../../mail/outbox.ts';
import { postgresWrite } from './unit-of-work.ts';

const MAIL_COLUMNS = `id, recipient, subject, text, html, message_id AS "messageId", created_at AS "createdAt",
  attempts, locked_until AS "lockedUntil"`;

// Several app processes claim from one table. FOR UPDATE SKIP LOCKED makes each claim lock the
// rows it chose and pass over rows another claim has locked, instead of waiting for it; a row
// whose claim committed meanwhile is re-checked against the WHERE clause (it now has a live
// lease) and left out. So no two senders ever hold one mail.
const CLAIM = `UPDATE outbox SET attempts = attempts + 1, locked_until = $1::bigint + $3::bigint
  WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= $1
    AND (locked_until IS NULL OR locked_until <= $1) ORDER BY next_attempt_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING ${MAIL_COLUMNS}, next_attempt_at AS due`;

// The claim's guard, repeated by every outcome: the mail is still queued and still on the attempt
// this sender counted. A sender whose lease ran out finds another's attempt there and changes nothing.
const STILL_CLAIMED = `id = $1 AND status = 'queued' AND attempts = $2`;

export function createPostgresOutboxStore(pool: pg.Pool): OutboxStore {
  const outcome = async (sql: string, mail: ClaimedMail, ...values: unknown[]) =>
    (await pool.query(sql, [mail.id, mail.attempts, ...values])).rowCount === 1;
  return {
    enqueue: (mail) => postgresWrite(async (client) => void await client.query(
      `INSERT INTO outbox (id, recipient, subject, text, html, message_id, next_attempt_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [mail.id, mail.recipient, mail.subject, mail.text, mail.html, mail.messageId, mail.createdAt])),
    async claim(now, limit, leaseMs) {
      const { rows } = await pool.query<ClaimedMail & { due: number }>(CLAIM, [now, limit, leaseMs]);
      // RETURNING gives no order: oldest due first, as chosen.
      return rows.sort((a, b) => a.due - b.due || a.createdAt - b.createdAt).map(({ due: _, ...mail }) => mail);
    },
    // A sent mail keeps its envelope (recipient, subject, Message-ID, when) and drops its body: the
    // body holds links whose tokens are stored only as hashes everywhere else.
    markSent: (mail, now) => outcome(`UPDATE outbox SET status = 'sent', sent_at = $3, locked_until = NULL, last_error = NULL,
      text = '', html = '' WHERE ${STILL_CLAIMED}`, mail, now),
    markRetry: (mail, nextAt, error) => outcome(`UPDATE outbox SET next_attempt_at = $3, locked_until = NULL, last_error = $4
      WHERE ${STILL_CLAIMED}`, mail, nextAt, error),
    markFailed: (mail, error) => outcome(`UPDATE outbox SET status = 'failed', locked_until = NULL, last_error = $3
      WHERE ${STILL_CLAIMED}`, mail, error),
    purgeSent: async (before) => (await pool.query(`DELETE FROM outbox WHERE status = 'sent' AND sent_at < $1`, [before])).rowCount ?? 0,
  };
}
