import type { Request, Response } from 'express';
import { AppError } from '../errors.ts';
import { BROWSER_SESSION_KEYS, regenerateSession, signInSession, type ResumeCookie } from '../auth/session-auth.ts';
import type { AuthRecord } from '../auth/user-store.ts';
import type { Reservation } from '../http/rate-limit.ts';
import { sameSiteRedirect } from '../http/same-site-paths.ts';

export type IdentityChange =
  /** `resumeToken`: a string sets the guest's resume cookie, null clears it. */
  | { kind: 'signIn'; record: AuthRecord; resumeToken: string | null; activeAt: number }
  | { kind: 'signOut'; forgetGuest: boolean };

export interface FlashMessage { type: string; message: string }

// Signing out keeps only the messages to show next: the cart and CSRF secret were the account's.
const CARRY_ON_SIGN_OUT = ['flash'];

/**
 * Everything one page render may change, recorded while the template runs (helpers are
 * synchronous and must not throw for control flow) and applied by `commit()` afterwards.
 */
export class PageScope {
  auth: AuthRecord | null;
  redirectTo: { location: string; status: number | undefined } | undefined;
  status: number | undefined;
  readonly headers: Array<[string, string]> = [];
  /** AppErrors that helpers and services raised, caught by the template or not: they set the status. */
  readonly raised: AppError[] = [];
  /** Set by `notFound()`: the runtime answers with the 404 page. */
  notFound = false;
  identity: IdentityChange | undefined;
  /** A new resume token for the current guest, when their browser had lost theirs. */
  resumeToken: string | undefined;
  guestBudget: Reservation | undefined;
  /** Guests created this request: the reservation pays for one; more are counted afterwards. */
  guestsCreated = 0;
  readonly messages: FlashMessage[];
  readonly services = new Map<string, unknown>();

  constructor(readonly req: Request, readonly res: Response, private readonly resume: ResumeCookie) {
    this.auth = req.auth;
    this.messages = req.session?.flash ?? [];
    if (req.session?.flash) delete req.session.flash;
  }

  raise(error: AppError): never {
    this.raised.push(error);
    throw error;
  }

  /** Runs a helper, remembering any AuthError it throws. */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError) this.raised.push(error);
      throw error;
    }
  }

  changeIdentity(change: IdentityChange): void {
    this.identity = change;
    this.auth = change.kind === 'signIn' ? change.record : null;
  }

  redirect(location: string, status?: number): void {
    this.redirectTo = { location: sameSiteRedirect(location), status };
  }

  flash(type: string, message: string): void {
    (this.req.session.flash ??= []).push({ type, message });
  }

  /** Applies the identity change: new session id, session contents, resume cookie. */
  async commit(): Promise<void> {
    const { req, res, identity } = this;
    if (identity?.kind === 'signIn') {
      await regenerateSession(req, BROWSER_SESSION_KEYS);
      signInSession(req, identity.record, identity.activeAt);
      if (identity.resumeToken) this.resume.set(res, identity.resumeToken);
      else if (identity.resumeToken === null && (this.resume.read(req) || this.resume.readPaused(req))) this.resume.clear(res);
    } else if (identity?.kind === 'signOut') {
      await regenerateSession(req, CARRY_ON_SIGN_OUT);
      const token = this.resume.read(req);
      if (identity.forgetGuest) this.resume.clear(res);
      else if (token) this.resume.pause(res, token);
    }
    if (this.resumeToken && identity === undefined) this.resume.set(res, this.resumeToken);
    req.auth = this.auth;
  }

}
