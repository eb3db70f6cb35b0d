import type { ClaimedMail, OutboxStore } from './outbox.ts';
import type { MailTransport } from './transports.ts';

export interface SenderOptions {
  /** How often to look for due mail when nothing pokes the sender. @default 1000 */
  pollMs?: number;
  /** Mails claimed at once. @default 10 */
  batchSize?: number;
  /** How long a claim holds its mails; another process may take them after it. @default 5 minutes */
  leaseMs?: number;
  /** Attempts before a mail is marked failed. @default 8 */
  maxAttempts?: number;
  /** The wait after a first failed attempt, doubled after each further one. @default 1000 */
  retryBaseMs?: number;
  /** The longest wait between two attempts. @default 60 000 */
  retryMaxMs?: number;
  /** How long sent mail stays in the outbox (it holds receipts, addresses, links). @default 7 days */
  keepSentMs?: number;
}

export interface Sender {
  /** Looks for due mail now, not at the next poll: a mail was just committed. */
  poke(): void;
  /** Stops polling, waits for the round in progress, closes the transport. */
  stop(): Promise<void>;
}

const DEFAULTS: Required<SenderOptions> = {
  pollMs: 1_000, batchSize: 10, leaseMs: 5 * 60_000, maxAttempts: 8, retryBaseMs: 1_000, retryMaxMs: 60_000,
  keepSentMs: 7 * 24 * 3_600_000,
};

// An attempt can take up to the SMTP timeouts (transports.ts: 10 + 10 + 30 s). A claimed mail whose
// lease ends sooner than this is left for a later claim rather than attempted: its lease could run
// out mid-attempt, and another process then send it too.
const LONGEST_ATTEMPT_MS = 60_000;
const PURGE_EVERY_MS = 3_600_000;

/**
 * Delivers the outbox: claims due mail (every `pollMs`, and at once when poked after a commit),
 * hands each to the transport, and records the outcome. A failed attempt is retried after 1 s,
 * 2 s, 4 s … (at most `retryMaxMs`): an SMTP server that is down for 10 s delays its mail by
 * seconds. After `maxAttempts` the mail is marked failed and logged. Nothing here throws: it
 * runs beside the pages, never inside one.
 *
 * Delivery is at least once. A process that stops between handing a mail to the SMTP server and
 * recording it as sent (a crash, the database gone for that moment) leaves the mail claimed; once
 * the lease ends it is sent again, with the same Message-ID, so mail programs can tell the repeat.
 */
export function startSender(deps: {
  outbox: OutboxStore; transport: MailTransport; now(): number; log(message: string): void;
}, options: SenderOptions = {}): Sender {
  const { outbox, transport, now, log } = deps;
  const settings = { ...DEFAULTS, ...options };
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let poked = false;
  let stopped = false;
  let failing = false;
  let purgedAt = 0;

  async function attempt(mail: ClaimedMail): Promise<void> {
    if (mail.lockedUntil - now() < Math.min(LONGEST_ATTEMPT_MS, settings.leaseMs / 2)) return;
    let where: string | undefined;
    try {
      where = await transport.deliver(mail);
    } catch (error) {
      return retryOrGiveUp(mail, reasonOf(error));
    }
    await outbox.markSent(mail, now());
    if (where) log(`mail "${mail.subject}" to ${mail.recipient}: ${where}`);
    else if (mail.attempts > 1) log(`mail "${mail.subject}" to ${mail.recipient} delivered on attempt ${mail.attempts}`);
  }

  async function retryOrGiveUp(mail: ClaimedMail, reason: string): Promise<void> {
    const about = `mail "${mail.subject}" to ${mail.recipient}`;
    if (mail.attempts >= settings.maxAttempts) {
      await outbox.markFailed(mail, reason);
      log(`${about} failed after ${mail.attempts} attempts and will not be retried: ${reason}`);
      return;
    }
    const delay = retryDelayMs(mail.attempts, settings);
    await outbox.markRetry(mail, now() + delay, reason);
    log(`${about}: attempt ${mail.attempts} failed (${reason}); next in ${delay / 1000} s`);
  }

  /** Claims and attempts batches until none is full; purges old sent mail once an hour. */
  async function sendDue(): Promise<void> {
    for (;;) {
      const batch = await outbox.claim(now(), settings.batchSize, settings.leaseMs);
      for (const mail of batch) await attempt(mail);
      if (batch.length < settings.batchSize || stopped) break;
    }
    if (now() - purgedAt >= PURGE_EVERY_MS) {
      await outbox.purgeSent(now() - settings.keepSentMs);
      purgedAt = now();
    }
  }

  function run(): void {
    if (stopped) return;
    if (round) {
      poked = true; // this round may have claimed already: go again right after it
      return;
    }
    clearTimeout(timer);
    round = sendDue().then(() => {
      if (failing) log('mail sender: the outbox is reachable again');
      failing = false;
    }, (error: unknown) => {
      // The database is unreachable (a restart): say so once, and keep polling.
      if (!failing) log(`mail sender: cannot reach the outbox, retrying every ${settings.pollMs / 1000} s: ${reasonOf(error)}`);
      failing = true;
    }).finally(() => {
      round = undefined;
      if (poked) {
        poked = false;
        run();
      } else if (!stopped) {
        timer = setTimeout(run, settings.pollMs);
        timer.unref();
      }
    });
  }

  run(); // mail left queued by an earlier run of the server goes out now
  return {
    poke: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
      transport.close();
    },
  };
}

/** The wait after `attempts` failed attempts: the base, doubled after each further one, at most the longest wait. */
export function retryDelayMs(attempts: number, options: Pick<SenderOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  const base = options.retryBaseMs ?? DEFAULTS.retryBaseMs;
  return Math.min(options.retryMaxMs ?? DEFAULTS.retryMaxMs, base * 2 ** (attempts - 1));
}

/** An error as one log line: SMTP errors carry the server's reply. */
function reasonOf(error: unknown): string {
  const { message, response } = (error ?? {}) as { message?: string; response?: string };
  return (response ?? message ?? String(error)).replace(/\s+/g, ' ').trim();
}
