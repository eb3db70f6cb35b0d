import { randomUUID } from 'node:crypto';
import type { Mailer } from './mailer.ts';
import type { OutboxStore } from './outbox.ts';
import type { MailTemplates } from './templates.ts';

// One plain address: no display name, no list, nothing a header parser could split into two
// recipients or lines (`a@x.example, b@y.example`, `a@x.example\r\nBcc: …`). Callers pass
// addresses they validated (an account's email, an order's receipt address); this is the last check.
const SINGLE_ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

/**
 * The Mailer on the outbox: renders at once (a template error fails the page that caused the
 * mail, where it can be seen), queues the row on the caller's unit of work, and pokes the sender
 * once that has committed, so mail goes out within moments rather than at the next poll.
 */
export function createOutboxMailer(deps: {
  outbox: OutboxStore; templates: MailTemplates; from: string; now(): number; poke(): void;
}): Mailer {
  const { outbox, templates, now, poke } = deps;
  // Message-IDs are `<unique@domain>` (RFC 5322); the sender's domain says who made them.
  const domain = /@([^\s<>@]+)>?$/.exec(deps.from)?.[1] ?? 'localhost';

  const mailer: Mailer = {
    compose(work, { template, to, data }) {
      if (!SINGLE_ADDRESS.test(to)) throw new Error(`mail ${template}: not a single plain address: ${JSON.stringify(to)}`);
      const { subject, text, html } = templates.render(template, data);
      const id = randomUUID();
      work.afterCommit(poke);
      return outbox.enqueue({ id, recipient: to, subject, text, html, messageId: `<${id}@${domain}>`, createdAt: now() });
    },
    send(work, request) {
      work.defer(mailer.compose(work, request));
    },
  };
  return mailer;
}
