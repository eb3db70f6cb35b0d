import { Router, type Request, type Response } from 'express';
import type { Transactor } from '../../db/unit-of-work.ts';
import { AccountGoneError, AppError, findCause } from '../../errors.ts';
import { safeNextPath } from '../../http/same-site-paths.ts';
import { AuthError } from '../errors.ts';
import { commitIdentity, type SessionKeys } from '../identity.ts';
import { hasPassword } from '../records.ts';
import type { ResumeCookie } from '../resume-cookie.ts';
import type { AccountStore, AuthRecord, EventLog, IdentityStore } from '../stores.ts';
import { IdentityError } from './errors.ts';
import type { IdentitySignIn, SignedIn } from './identity-sign-in.ts';
import { newPendingSignIn, rememberSignIn, takeSignIn } from './pending-sign-ins.ts';
import type { RelyingParty } from './relying-party.ts';

export interface IdentityRouteDeps {
  parties: ReadonlyMap<string, RelyingParty>;
  signIns: IdentitySignIn;
  records: AccountStore;
  identities: IdentityStore;
  events: EventLog;
  transactor: Transactor;
  resume: ResumeCookie;
  sessionKeys: SessionKeys;
  now(): number;
  log(message: string): void;
  /** The site's error page, with a message of our own. */
  renderError(req: Request, res: Response, status: number, details: { message: string }): Promise<void>;
}

const WELCOME: Record<SignedIn['how'], (label: string) => string> = {
  signed_in: () => 'Welcome back!',
  merged: () => 'Welcome back! What you did as a guest is in your account.',
  converted: () => 'Your account is saved. Everything you did as a guest is in it.',
  registered: () => 'Your account is ready.',
  linked: (label) => `${label} is linked: you can sign in with it from now on.`,
  already_linked: (label) => `${label} was linked to your account already.`,
};

/**
 * The routes of every configured provider: `POST /auth/<name>/start` (CSRF-checked like every
 * POST) sends the visitor to the provider; `GET /auth/<name>/callback` is where it sends them
 * back; `POST /auth/<name>/unlink` removes a linked provider account. Every change of who the
 * visitor is, and every link and unlink, gets a new session id. A name that is no provider's falls
 * through to the pages (404).
 */
export function identityRoutes(deps: IdentityRouteDeps): Router {
  const { parties, signIns, records, identities, events, transactor, resume, sessionKeys, now, log } = deps;
  const router = Router();
  const rotate = (req: Request, res: Response, record: AuthRecord) =>
    commitIdentity(req, res, { kind: 'signIn', record, resumeToken: null, activeAt: now() }, { resume, keys: sessionKeys });

  type Action = (req: Request, res: Response, party: RelyingParty) => Promise<void>;
  /** Runs `action` for the provider the path names; an error a visitor can cause gets the error page with its status. */
  const forProvider = (action: Action) => async (req: Request, res: Response, next: (error?: unknown) => void) => {
    const party = parties.get(req.params.provider as string);
    if (!party) return next();
    try {
      await action(req, res, party);
    } catch (error) {
      const gone = findCause(error, AccountGoneError);
      // Cleanup deleted this guest during the sign-in: they are signed out, and may start again.
      if (gone) await commitIdentity(req, res, { kind: 'signOut', forgetGuest: true }, { resume, keys: sessionKeys });
      const known = gone ? new IdentityError('sign_in_expired') : findCause(error, AppError);
      if (!known) throw error;
      const shown = known instanceof IdentityError ? known.withLabel(party.provider.label) : known;
      // What an operator can act on: the provider failing, or answers that fail a check (a
      // misconfigured client, tampering). Stale or forged callbacks are anybody's to send.
      if (shown.status >= 500 || shown.code === 'sign_in_rejected') {
        log(`identity provider ${party.provider.name}: ${req.method} ${req.path} answered ${shown.status} (${shown.code}): ${causeOf(error)}`);
      }
      await deps.renderError(req, res, shown.status, { message: shown.message });
    }
  };

  router.post('/auth/:provider/start', forProvider(async (req, res, party) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const visitor = req.auth;
    const intent = body.intent === 'link' && visitor && !visitor.isAnonymous ? 'link' : 'continue';
    const next = typeof body.next === 'string' && body.next ? safeNextPath(body.next) : intent === 'link' ? '/account' : '/';
    const pending = newPendingSignIn({ provider: party.provider.name, intent, next, visitorId: visitor?.id ?? null, startedAt: now() });
    const location = await party.authorizationUrl(pending);
    rememberSignIn(req.session, pending, now());
    res.set('Cache-Control', 'no-store').redirect(303, location.href);
  }));

  router.get('/auth/:provider/callback', forProvider(async (req, res, party) => {
    // Taken out of the session before anything else: a state is good for one callback, whatever comes of it.
    const pending = takeSignIn(req.session, req.query.state, now());
    if (!pending || pending.provider !== party.provider.name || pending.visitorId !== (req.auth?.id ?? null)) {
      throw new IdentityError('sign_in_expired');
    }
    // The redirect URI as registered, from APP_URL, never from the Host header.
    const callbackUrl = new URL(party.provider.redirectUri);
    callbackUrl.search = new URL(req.originalUrl, callbackUrl).search;
    const claims = await party.verifiedClaims(callbackUrl, pending);
    const work = transactor.begin();
    const outcome = await signIns.complete(work, req.auth, party.provider, claims, pending.intent);
    await work.commit();
    if (outcome.kind === 'password_first') {
      req.session.flash = [...req.session.flash ?? [], { type: 'error', message: passwordFirst(party.provider.label) }];
      return res.redirect(303, `/login?next=${encodeURIComponent('/account')}`);
    }
    await rotate(req, res, outcome.account);
    req.auth = outcome.account;
    req.session.flash = [{ type: 'success', message: WELCOME[outcome.how](party.provider.label) }];
    res.redirect(303, pending.next);
  }));

  router.post('/auth/:provider/unlink', forProvider(async (req, res, party) => {
    const account = req.auth;
    if (!account || account.isAnonymous) throw new AuthError('not_signed_in');
    const stored = await records.find(account.collection, account.id);
    if (!stored) throw new AuthError('not_signed_in');
    const subject = String((req.body as Record<string, unknown> | undefined)?.subject ?? '');
    const detail = { provider: party.provider.name };
    await transactor.begin().run(identities.unlink(account.id, party.provider.name, subject, hasPassword(stored)),
      events.record('identity_unlinked', account.id, account.collection, detail));
    await rotate(req, res, account);
    req.session.flash = [{ type: 'success', message: `${party.provider.label} is unlinked from your account.` }];
    res.redirect(303, '/account');
  }));

  return router;
}

function passwordFirst(label: string): string {
  return `An account with the email from ${label} already exists. Sign in with your password first, `
    + `then link ${label} from your account page.`;
}

/** What went wrong underneath, for the log: the provider's own words, never a token. */
function causeOf(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error && messages.length < 4; current = current.cause) {
    const { error: code, error_description: description } = current as { error?: unknown; error_description?: unknown };
    const said = typeof description === 'string' ? `${code}: ${description}` : code;
    messages.push(typeof code === 'string' ? `${current.message} (${said})` : current.message);
  }
  return messages.join(' ← ');
}
