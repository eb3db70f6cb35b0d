import { createRateLimiter, type LimitStore, type Reservation } from '../http/rate-limit.ts';

/**
 * How many mails visitors may cause: every form that sends one (a checkout's receipt, a receipt
 * sent again, a link by mail) takes a point per client address and one per recipient, so
 * neither one address nor many can fill somebody's inbox.
 */
export interface MailLimits {
  /** Both points, or neither: a refusal says when to try again (`Retry-After`), and which limit it was. */
  reserve(clientAddress: string, recipient: string): Promise<Reservation & { refusedBy?: 'client' | 'recipient' }>;
}

/** `perMinute` mails a minute per client address and per recipient (MAIL_RATE_LIMIT), counted in `store`; 0 is no limit. */
export function createMailLimits(perMinute: number, store: LimitStore): MailLimits {
  const byClient = createRateLimiter(perMinute, 'mail-client', store);
  const byRecipient = createRateLimiter(perMinute, 'mail-recipient', store);
  return {
    async reserve(clientAddress, recipient) {
      const client = await byClient.reserve(clientAddress);
      if (!client.granted) return { ...client, refusedBy: 'client' };
      const inbox = await byRecipient.reserve(recipient.toLowerCase());
      if (!inbox.granted) {
        client.refund();
        return { ...inbox, refusedBy: 'recipient' };
      }
      return { granted: true, retryAfterSeconds: 0, refund() { client.refund(); inbox.refund(); } };
    },
  };
}
