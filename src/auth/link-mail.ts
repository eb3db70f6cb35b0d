import type { UnitOfWork, Write } from '../db/unit-of-work.ts';
import type { Mailer, MailTemplate } from '../mail/mailer.ts';

export interface LinkMailRequest {
  template: MailTemplate;
  to: string;
  /** The page the link opens, such as `/reset-password`; its `token` parameter is `secret`. */
  path: string;
  secret: string;
  /** More for the template; `link` is added. */
  data?: Record<string, unknown>;
}

/** Mails carrying a link with a token, built from `APP_URL` and never from the request's Host. */
export interface LinkMail {
  /**
   * The outbox writes of the mail, for the caller to apply in the transaction that stores the
   * link's token (and whatever caused it), so the token, the mail and the cause commit together
   * or not at all. The mail is rendered now.
   */
  writes(work: UnitOfWork, request: LinkMailRequest): ReadonlyArray<Write<unknown>>;
}

export function createLinkMail(deps: { mailer: Mailer; appUrl: string }): LinkMail {
  const { mailer, appUrl } = deps;
  return {
    writes(work, { template, to, path, secret, data = {} }) {
      const link = `${appUrl}${path}?token=${secret}`;
      return capturedWrites(work, (sink) => mailer.send(sink, { template, to, data: { ...data, link } }));
    },
  };
}

/**
 * The writes `queue` defers, caught rather than queued, so the caller can apply them alongside
 * its own (`work.run(write, ...caught)`): the mailer queues on a unit of work, and a deferred
 * write would commit in a transaction of its own, after a failed one. What is to happen after
 * the commit still waits for `work`'s.
 */
function capturedWrites(work: UnitOfWork, queue: (sink: UnitOfWork) => void): Array<Write<unknown>> {
  const caught: Array<Write<unknown>> = [];
  const refuse = () => Promise.reject(new Error('a mail being prepared cannot apply writes itself'));
  queue({
    defer: (write) => void caught.push(write),
    afterCommit: (effect) => work.afterCommit(effect),
    run: refuse,
    commit: refuse,
    discard: () => void caught.splice(0),
  });
  return caught;
}
