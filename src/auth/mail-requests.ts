import type { Request, Response } from 'express';
import type { Transactor, UnitOfWork } from '../db/unit-of-work.ts';
import type { MailLimits } from '../mail/mail-limits.ts';
import { normalizeEmail } from './email-address.ts';
import { AuthError } from './errors.ts';

/** What a mail form asks for, done once the visitor has their answer: look the address up, queue the mail. */
export type MailJob = (work: UnitOfWork, email: string) => Promise<void>;

export interface MailRequests {
  /**
   * Counts a mail form's request against both limits, throwing `invalid_email`, `rate_limited`
   * or `email_rate_limited`; resolves to the address in its canonical form. For forms whose
   * visitor owns what the mail is about (a signed-in account's own verification link).
   */
  admit(req: Request, rawEmail: unknown): Promise<string>;
  /**
   * Checks the address (`invalid_email`) and the limits (`rate_limited` per client address,
   * `email_rate_limited` per recipient) now; `job` runs once this request's render has
   * committed and its answer has gone out, on a unit of work of its own. Resolves to the
   * address in its canonical form.
   */
  submit(scope: { req: Request; res: Response; work: UnitOfWork }, rawEmail: unknown, job: MailJob): Promise<string>;
  /** Resolves once every job submitted so far has finished (shutdown, tests). */
  idle(): Promise<void>;
}

/**
 * The mail forms that name an address the visitor may not own ("forgot your password?", "email
 * me a sign-in link", "send the verification link again") answer the same whether or not an
 * account has it, and in the same time: the answer goes out before the address is looked up,
 * so neither its content nor its timing can depend on the lookup, or on the mail queued after
 * it. Both limits count every request, found or not, so they tell nothing either.
 */
export function createMailRequests(deps: { transactor: Transactor; limits: MailLimits; log(message: string): void }): MailRequests {
  const { transactor, limits, log } = deps;
  const running = new Set<Promise<void>>();

  async function run(job: MailJob, email: string): Promise<void> {
    const work = transactor.begin();
    try {
      await job(work, email);
      await work.commit();
    } catch (error) {
      work.discard();
      log(`A mail request failed: ${(error as Error)?.stack ?? error}`);
    }
  }

  /** Runs `job` once `res` is out; counted as running from now, so `idle()` waits for it. */
  function startAfter(res: Response, job: MailJob, email: string): void {
    const task = new Promise<void>((resolve) => {
      const go = () => void run(job, email).then(resolve);
      if (res.writableFinished || res.destroyed) go();
      else res.once('close', go);
    }).finally(() => running.delete(task));
    running.add(task);
  }

  const requests: MailRequests = {
    async admit(req, rawEmail) {
      const email = normalizeEmail(rawEmail);
      // The points every mail takes, receipts included: one inbox has one budget.
      const reservation = await limits.reserve(req.ip ?? 'unknown', email);
      if (!reservation.granted) {
        throw new AuthError(reservation.refusedBy === 'recipient' ? 'email_rate_limited' : 'rate_limited', reservation.retryAfterSeconds);
      }
      return email;
    },
    async submit({ req, res, work }, rawEmail, job) {
      const email = await requests.admit(req, rawEmail);
      // Only a render that commits starts the job, and only once its answer is out.
      work.afterCommit(() => startAfter(res, job, email));
      return email;
    },
    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
  };
  return requests;
}
