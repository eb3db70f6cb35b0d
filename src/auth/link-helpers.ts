import { ProgrammingError } from '../errors.ts';
import type { EmailVerification } from './email-verification.ts';
import { AuthError } from './errors.ts';
import type { GuestResume } from './guest-resume.ts';
import type { MailJob, MailRequests } from './mail-requests.ts';
import type { NewPassword, PasswordReset } from './password-reset.ts';
import type { SignInLinks } from './sign-in-links.ts';
import type { AuthHelpers, RenderAuth } from './template-helpers.ts';

/** The links a template can send, check and redeem. */
export type LinkKind = 'password-reset' | 'sign-in' | 'verify-email' | 'guest-resume';

export interface LinkFlows {
  passwordReset: PasswordReset;
  signInLinks: SignInLinks;
  verification: EmailVerification;
  guestResume: GuestResume;
  mailRequests: MailRequests;
}

const KINDS = new Set<string>(['password-reset', 'sign-in', 'verify-email', 'guest-resume']);

/**
 * The template helpers of the mailed links: `sendLink`, `checkLink`, `redeemLink` and
 * `pendingEmail`. Every one is async and throws an AuthError with a stable code.
 */
export function linkHelpers(flows: LinkFlows): AuthHelpers {
  const { passwordReset, signInLinks, verification, guestResume, mailRequests } = flows;

  return (render: RenderAuth) => {
    const { scope } = render;
    const { req, work } = scope;
    const kindOf = (kind: unknown): LinkKind => {
      if (typeof kind === 'string' && KINDS.has(kind)) return kind as LinkKind;
      return scope.raise(new ProgrammingError('unknown_link', `no kind of link "${String(kind)}" (${[...KINDS].join(', ')})`));
    };

    /** The signed-in visitor's own verification link (null: nothing to verify), or the link for `email`'s unverified account. */
    async function sendVerification(email: unknown): Promise<string | null> {
      const visitor = render.visitor();
      if (!visitor) return submit(email, verification.request);
      const address = await verification.addressOf(visitor);
      if (!address) return null;
      await verification.send(work, visitor.id, await mailRequests.admit(req, address));
      return address;
    }

    const submit = (email: unknown, job: MailJob) => mailRequests.submit(scope, email, job);

    async function sendGuestResume(email: unknown): Promise<string> {
      const guest = render.visitor();
      if (!guest?.isAnonymous) throw new AuthError(guest ? 'not_anonymous' : 'not_signed_in');
      return guestResume.request(work, guest, await mailRequests.admit(req, email));
    }

    return {
      /**
       * Mails a link; resolves to the address it goes to. `password-reset` and `sign-in` go to
       * the account registered with `email`, if there is one: the answer, and its timing, are
       * the same either way. `verify-email` goes to the signed-in visitor's own address (or a
       * guest's pending one; null when there is nothing to verify), or, signed out, to
       * `email`'s account if it is unverified.
       * `guest-resume` mails the signed-in guest a link to `email` that brings them back on
       * another device. Every kind is rate-limited per client address and per recipient.
       */
      sendLink: (kind: LinkKind, options: { email?: unknown } = {}) => scope.guard(async () => {
        switch (kindOf(kind)) {
          case 'password-reset': return submit(options.email, passwordReset.request);
          case 'sign-in': return submit(options.email, signInLinks.request);
          case 'verify-email': return sendVerification(options.email);
          case 'guest-resume': return sendGuestResume(options.email);
        }
      }),

      /**
       * Whether a link's `token` works, changing nothing (mail scanners open links): resolves to
       * the address it is for (null for a guest's resume link), or throws `invalid_link`,
       * `expired_link` or `used_link` (400).
       */
      checkLink: (kind: LinkKind, token: unknown) => scope.guard(async (): Promise<{ email: string | null }> => {
        switch (kindOf(kind)) {
          case 'password-reset': return { email: (await passwordReset.check(token)).email };
          case 'sign-in': return { email: (await signInLinks.check(token)).email };
          case 'verify-email': return { email: await verification.check(token) };
          case 'guest-resume': await guestResume.check(token); return { email: null };
        }
      }),

      /**
       * Uses a link (once) and signs this browser in to its account with a new session id; a
       * guest here hands over their cart, orders and notes. `password-reset` needs `{ password,
       * confirmation }` and ends every other session of the account; `guest-resume` moves the
       * guest here from the device it was on. Resolves to the signed-in record.
       */
      redeemLink: (kind: LinkKind, token: unknown, fields: Partial<NewPassword> = {}) => scope.guard(async () => {
        const visitor = render.visitor();
        switch (kindOf(kind)) {
          case 'password-reset': return arrived(render, await passwordReset.complete(work, visitor, token, {
            password: fields.password, confirmation: fields.confirmation,
          }));
          case 'sign-in': return arrived(render, await signInLinks.redeem(work, visitor, token));
          case 'verify-email': return arrived(render, await verification.redeem(work, visitor, token));
          case 'guest-resume': {
            const { record, token: resumeToken } = await guestResume.redeem(work, visitor, token);
            return arrived(render, record, resumeToken);
          }
        }
      }),

      /** The address the signed-in guest's conversion waits on (EMAIL_VERIFICATION=required), or null. */
      pendingEmail: () => scope.guard(async () => {
        const visitor = render.visitor();
        return visitor?.isAnonymous ? verification.addressOf(visitor) : null;
      }),
    };
  };
}

function arrived<T extends Parameters<RenderAuth['signInTo']>[0]>(render: RenderAuth, record: T, resumeToken?: string): T {
  render.signInTo(record, resumeToken);
  return record;
}
