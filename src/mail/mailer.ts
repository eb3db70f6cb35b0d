import type { UnitOfWork, Write } from '../db/unit-of-work.ts';

/** Every mail the app sends; each has `views/mail/<name>.text.eta` and `.html.eta`. */
export type MailTemplate = 'receipt' | 'password-reset' | 'email-verification' | 'sign-in-link' | 'guest-resume';

export interface MailRequest {
  template: MailTemplate;
  /** The recipient's address (already validated: an account's email, an order's receipt address). */
  to: string;
  /** What the templates show; links are built by the caller from `config.appUrl`, never from the request. */
  data: Record<string, unknown>;
}

/**
 * Sends mail through the transactional outbox: `send` renders the message now and queues its
 * outbox row on `work`, so it commits with what caused it (an order and its receipt) or not at
 * all; a sender delivers committed rows afterwards, with retries. Sending never blocks or fails
 * a page.
 */
export interface Mailer {
  send(work: UnitOfWork, request: MailRequest): void;
  /**
   * The same mail as a write the caller applies itself, beside the write that causes it
   * (`work.run(placeOrder, receipt)`): for a cause the page awaits and that may fail. `send`
   * would queue the mail ahead of it, and a failed `run` keeps what was queued for the next
   * commit, so a receipt would go out for an order that was never placed.
   */
  compose(work: UnitOfWork, request: MailRequest): Write;
}
