/**
 * The outbox, as a port: mail waiting to be sent, one row per message. A message is queued by a
 * `Write` in the transaction of what caused it (an order and its receipt commit together, or
 * neither does); a sender then claims due rows, delivers them and records the outcome. One
 * implementation per backend under `src/db/<backend>/outbox-store.ts`.
 */
import type { Write } from '../db/unit-of-work.ts';

/** A message rendered and addressed, ready to go out as it is on every attempt. */
export interface OutgoingMail {
  id: string;
  recipient: string;
  subject: string;
  text: string;
  html: string;
  /** The Message-ID header (`<id@domain>`), fixed when the mail is queued: a resend is the same message. */
  messageId: string;
  createdAt: number;
}

export type MailStatus = 'queued' | 'sent' | 'failed';

/** A mail one sender holds until `lockedUntil`; `attempts` counts the attempt it is about to make. */
export interface ClaimedMail extends OutgoingMail {
  attempts: number;
  lockedUntil: number;
}

export interface OutboxStore {
  /** Queues `mail`, due at once. */
  enqueue(mail: OutgoingMail): Write;
  /**
   * Takes up to `limit` due mails (queued, next attempt due, no live lease) for `leaseMs`,
   * counting an attempt on each, oldest due first. Atomic: two senders, in one process or
   * several, never claim the same mail while a lease runs. The sender's own statement, not a
   * page's write, so it runs at once.
   */
  claim(now: number, limit: number, leaseMs: number): Promise<ClaimedMail[]>;
  /**
   * Sent. This and the two below record the outcome of a claimed attempt, and each applies only
   * while the mail is still this claim's (queued, same attempt count): a sender whose lease ran
   * out, and whose mail another sender took meanwhile, changes nothing. Resolves to whether it
   * applied. A sent mail keeps its envelope (recipient, subject, Message-ID, times) and drops its
   * body: the links in it carry tokens that are stored only as hashes everywhere else.
   */
  markSent(mail: ClaimedMail, now: number): Promise<boolean>;
  /** Queued again, due at `nextAttemptAt`, with the reason this attempt failed. */
  markRetry(mail: ClaimedMail, nextAttemptAt: number, error: string): Promise<boolean>;
  /** Given up: stays in the table, with the last reason, for someone to look at. */
  markFailed(mail: ClaimedMail, error: string): Promise<boolean>;
  /** Deletes mail sent before `before` (the rows hold receipts, addresses, links); resolves to how many. */
  purgeSent(before: number): Promise<number>;
}
