import type { Config } from '../config.ts';
import { AccountGoneError, findCause, ProgrammingError } from '../errors.ts';
import { refererPath, safeNextPath } from '../http/same-site-paths.ts';
import type { PagePlugin } from '../pages/plugin.ts';
import type { PageScope } from '../pages/scope.ts';
import type { Accounts, Credentials } from './accounts.ts';
import type { EmailVerification } from './email-verification.ts';
import { AuthError } from './errors.ts';
import type { GuestBudget } from './guest-budget.ts';
import type { Guests } from './guests.ts';
import { createCrawlerCheck } from './crawlers.ts';
import type { Sessions } from '../http/sessions.ts';
import { commitIdentity, keepsSessionId, signedIn, type IdentityChange, type SessionKeys } from './identity.ts';
import type { KnownDevices } from './known-devices.ts';
import type { LoginLimits } from './login-limits.ts';
import { createRacingGuests } from './racing-guests.ts';
import type { ResumeCookie } from './resume-cookie.ts';
import type { AccountStore, AuthRecord, EventLog } from './stores.ts';

export interface SignInAnonymouslyOptions {
  /** The auth collection to create the guest in. @default 'users' */
  collection?: string;
  /** Create a fresh guest even when the visitor already is one. @default false */
  forceNew?: boolean;
  /** Stored as JSON on the record and returned on it. */
  metadata?: Record<string, unknown>;
}

/** What `signInAnonymously` returns, as in the helper's documentation: `{ token, record }`. */
export interface AuthData { token: string; record: AuthRecord }

/** One render's auth, for the helpers other modules add beside these (link-helpers.ts). */
export interface RenderAuth {
  readonly scope: PageScope;
  /** The signed-in record, following sign-ins made earlier in the render. */
  visitor(): AuthRecord | null;
  /**
   * Signs this browser in to `record` (new session id) once the render is done: for a sign-in
   * whose writes are already committed, so it stands even if the page fails afterwards. A
   * guest gets `resumeToken` as its resume cookie; an account clears the cookie and marks the
   * browser known for it (login limits).
   */
  signInTo(record: AuthRecord, resumeToken?: string): void;
}

/** A module's template helpers, bound to one render. */
export type AuthHelpers = (render: RenderAuth) => Record<string, unknown>;

export interface AuthPluginDeps {
  config: Config; records: AccountStore; guests: Guests; accounts: Accounts; events: EventLog;
  verification: EmailVerification; loginLimits: LoginLimits; guestBudget: GuestBudget; knownDevices: KnownDevices;
  resume: ResumeCookie; sessionKeys: SessionKeys; now(): number;
  /** The session store's saves within a render, where it has them (on PostgreSQL). */
  sessions?: Pick<Sessions, 'saveInRender'>;
  /** More helpers, sharing this plug-in's identity changes. */
  extraHelpers?: readonly AuthHelpers[];
}

/** What one render changed of who the visitor is, applied after its writes are committed. */
interface RenderIdentity {
  change?: IdentityChange;
  /**
   * Whether the change stands even if the render fails afterwards: a sign-in whose writes were
   * already committed (a password sign-in) does; a new guest, still queued, does not.
   */
  durable: boolean;
  /** A new resume token for the current guest, when their browser had lost theirs. */
  resumeToken?: string;
  /** The guest this browser signed out of softly, loaded before the render for `signInAnonymously`. */
  paused?: AuthData | null;
}

/**
 * Auth as a page plug-in: the helpers templates call (`signInAnonymously`, `signIn`, …), bound
 * to one render, and what auth does around every render: load the paused guest and take the
 * guest budget before, commit the identity change after.
 */
export function createAuthPlugin(deps: AuthPluginDeps): PagePlugin {
  const { config, records, guests, accounts, events, verification, loginLimits, guestBudget, knownDevices, resume, sessionKeys, now } = deps;
  const renders = new WeakMap<PageScope, RenderIdentity>();
  const saveInRender = deps.sessions?.saveInRender;
  const racingGuests = createRacingGuests();
  const isCrawler = createCrawlerCheck();

  const stateOf = (scope: PageScope): RenderIdentity => {
    let state = renders.get(scope);
    if (!state) renders.set(scope, (state = { durable: false }));
    return state;
  };
  const visitorOf = (scope: PageScope) => scope.visitor as AuthRecord | null;

  function changeIdentity(scope: PageScope, change: IdentityChange, durable: boolean, options: { made?: boolean } = {}): void {
    const state = stateOf(scope);
    state.change = change;
    state.durable = durable;
    scope.setVisitor(change.kind === 'signIn' ? change.record : null, options);
  }

  function helpers(scope: PageScope) {
    const { req, work } = scope;

    /** The current guest's resume token: the browser's own, or a new one when it has none. */
    function tokenOf(guest: AuthRecord): string {
      const cookie = resume.read(req);
      if (cookie?.startsWith(`${guest.collection}.${guest.id}.`)) return cookie;
      const token = guests.reissue(work, guest);
      stateOf(scope).resumeToken = token;
      return token;
    }

    /** Runs a password-checked action on the account `email` names, within the login limits. */
    async function limitAttempts<T>(email: unknown, action: () => Promise<T>): Promise<T> {
      const attempt = await loginLimits.admit(req, email);
      let wrongPassword = false;
      try {
        return await action();
      } catch (error) {
        wrongPassword = error instanceof AuthError && error.code === 'invalid_credentials';
        throw error;
      } finally {
        attempt.settle(wrongPassword);
      }
    }

    /** The signed-in registered account, for a password-checked action counted like a login. */
    async function registeredAttempt<T>(action: (account: AuthRecord) => Promise<T>): Promise<T> {
      const account = visitorOf(scope);
      if (!account || account.isAnonymous) throw new AuthError('not_signed_in');
      return limitAttempts(account.email, () => action(account));
    }

    /** Signs the visitor in to an account they just proved theirs (password, mailed link), on this browser too. */
    function signInTo(record: AuthRecord, resumeToken?: string): void {
      if (!record.isAnonymous) knownDevices.remember(req, scope.res, record.id);
      changeIdentity(scope, { kind: 'signIn', record, resumeToken: record.isAnonymous ? resumeToken : null, activeAt: now() }, true);
    }

    /**
     * The signed-in guest saves their account: at once, with a verification mail in the same
     * transaction; or, when verification is required, only once the mailed link is followed
     * (the guest stays a guest meanwhile, and is returned as one).
     */
    async function convertVisitor(input: Credentials): Promise<AuthRecord> {
      const guest = visitorOf(scope);
      if (verification.required && guest?.isAnonymous) {
        await accounts.convertLater(work, guest, input ?? {}, verification.alongside(work));
        return guest;
      }
      const record = await accounts.convert(work, guest, input ?? {}, verification.alongside(work));
      signInTo(record);
      return record;
    }

    const render: RenderAuth = { scope, visitor: () => visitorOf(scope), signInTo };
    return {
      ...Object.assign({}, ...(deps.extraHelpers ?? []).map((group) => group(render))) as Record<string, unknown>,
      /** Creates a guest record and signs the visitor in, within this request. Synchronous. */
      signInAnonymously(options: SignInAnonymouslyOptions = {}): AuthData {
        const collection = options.collection ?? 'users';
        if (!records.has(collection)) {
          scope.raise(new ProgrammingError('unknown_collection', `signInAnonymously: no auth collection "${collection}" (GUEST_COLLECTIONS)`));
        }
        const current = visitorOf(scope);
        if (current && !current.isAnonymous) scope.raise(new AuthError('already_signed_in'));
        if (current && current.collection === collection && !options.forceNew) {
          return { token: tokenOf(current), record: current };
        }
        const paused = !current && !options.forceNew ? stateOf(scope).paused : null;
        if (paused && paused.record.collection === collection) {
          changeIdentity(scope, { kind: 'signIn', record: paused.record, resumeToken: paused.token, activeAt: 0 }, true);
          return paused;
        }
        if (!config.anonymousEnabled || isCrawler(req.headers['user-agent'] ?? '')) {
          scope.raise(new AuthError('anonymous_disabled'));
        }
        guestBudget.spend(scope);
        const seed = options.forceNew ? undefined : racingGuests.seedOf(req);
        const guest = guests.create(work, collection, { metadata: options.metadata ?? {}, seed });
        // A guest at random is known to no one else; a seeded one may be a racing twin's, with rows.
        changeIdentity(scope, { kind: 'signIn', record: guest.record, resumeToken: guest.token, activeAt: 0 }, false, { made: seed === undefined });
        return { token: guest.token, record: guest.record };
      },

      /** Makes the signed-in guest a registered account, keeping its id (see convertVisitor). */
      convertGuest: (input: Credentials) => scope.guard(() => limitAttempts(input?.email, () => convertVisitor(input))),

      /**
       * Registers a new account in `users` and mails its verification link; signs in at once
       * unless verification is required. The signed-in guest is converted instead.
       */
      signUp: (input: Credentials) => scope.guard(() => limitAttempts(input?.email, async () => {
        if (visitorOf(scope)?.isAnonymous) return convertVisitor(input);
        const record = await accounts.register(work, visitorOf(scope), input ?? {}, verification.alongside(work));
        if (!verification.required) signInTo(record);
        return record;
      })),

      /** Password sign-in; a guest signing in hands their work to the account (merge handlers). */
      signIn: (input: { email: string; password: string }) => scope.guard(() => limitAttempts(input?.email, async () => {
        const user = await accounts.verifyLogin(work, input?.email, input?.password);
        // The right password, but the address never proved: only now may the page say so.
        if (verification.required && user.emailVerifiedAt === null) throw new AuthError('email_not_verified');
        const current = visitorOf(scope);
        if (current?.isAnonymous) await accounts.merge(work, current, user);
        work.defer(events.record('signed_in', user.id, user.collection));
        signInTo(user);
        return user;
      })),

      /** Changes the signed-in account's password after checking the current one. */
      changePassword: (current: unknown, next: unknown) => scope.guard(() => registeredAttempt(async (account) => {
        await accounts.changePassword(work, account, current, next);
        // A new password should not leave other sessions signed in: this one moves to a new id.
        changeIdentity(scope, { kind: 'signIn', record: account, resumeToken: null, activeAt: now() }, true);
      })),

      /** Deletes the signed-in registered account (password required) and every session it has. */
      deleteAccount: (password: unknown) => scope.guard(() => registeredAttempt(async (account) => {
        await accounts.deleteAccount(work, account, password);
        changeIdentity(scope, { kind: 'signOut', forgetGuest: true }, true);
      })),

      /**
       * Ends the session. A guest's soft sign-out pauses their resume cookie: their next
       * `signInAnonymously()` brings the same guest back. `forgetGuest` (and any registered
       * user's sign-out) deletes it.
       */
      signOut(options: { forgetGuest?: boolean } = {}): void {
        const current = visitorOf(scope);
        if (current) work.defer(events.record('signed_out', current.id, current.collection));
        const forgetGuest = !current?.isAnonymous || options.forgetGuest === true;
        // Forgetting must end the guest's credential, not just this browser's copy of it: a
        // resume cookie copied earlier would otherwise still sign in as them.
        if (current?.isAnonymous && forgetGuest) guests.reissue(work, current);
        // Signing out stands even if the page fails afterwards.
        changeIdentity(scope, { kind: 'signOut', forgetGuest }, true);
      },

      /** The signed-in record (guest or registered); otherwise redirects to sign-in and returns null. */
      requireAuth(): AuthRecord | null {
        const current = visitorOf(scope);
        if (current) return current;
        scope.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
        return null;
      },

      /** A registered account; guests are sent to the conversion page, others to sign-in. */
      requireRegistered(): AuthRecord | null {
        const current = visitorOf(scope);
        if (current && !current.isAnonymous) return current;
        const target = current ? '/register' : '/login';
        scope.redirect(`${target}?next=${encodeURIComponent(req.originalUrl)}`);
        return null;
      },

      /**
       * Where to go after signing in: `candidate` (a form's hidden `next`), else the `next` query
       * parameter, else the page the visitor came from; only paths on this site, else `/`.
       */
      nextPath(candidate?: unknown): string {
        if (typeof candidate === 'string' && candidate) return safeNextPath(candidate);
        if (typeof req.query.next === 'string') return safeNextPath(req.query.next);
        return refererPath(req, ['/login', '/register', '/logout']);
      },
    };
  }

  return {
    helpers,

    async beforeRender(scope, page) {
      const visitor = visitorOf(scope);
      const pausedToken = visitor ? undefined : resume.readPaused(scope.req);
      if (pausedToken) {
        const record = await guests.resume(pausedToken);
        stateOf(scope).paused = record ? { token: pausedToken, record } : null;
      }
      // Registered members cannot create guests; other pages never try.
      if ((!visitor || visitor.isAnonymous) && page.mayCall('signInAnonymously')) await guestBudget.reserve(scope);
    },

    beforeCommit(scope) {
      const { req, work } = scope;
      const change = renders.get(scope)?.change;
      // A sign-in that keeps the session id: the session it makes is known now, so where the
      // store can, it commits with the render's writes (a new guest on PostgreSQL: in the guest's
      // own statement), and express-session's save afterwards finds it written.
      if (change?.kind !== 'signIn' || !keepsSessionId(req) || !saveInRender) return;
      const save = saveInRender(req.session, { ...req.session, ...signedIn(change) });
      work.defer(save.write);
      work.afterCommit(save.committed);
    },

    async afterRender(scope, { failure }) {
      const { req, res } = scope;
      guestBudget.settle(scope);
      const state = renders.get(scope);
      const gone = findCause(failure, AccountGoneError);
      if (gone && gone.accountId === (req.auth?.id ?? visitorOf(scope)?.id)) {
        // Cleanup deleted this guest after the request was authenticated: sign the visitor out
        // (new session, resume cookie cleared) and load the page again, which then renders signed out.
        await commitIdentity(req, res, { kind: 'signOut', forgetGuest: true }, { resume, keys: sessionKeys });
        req.auth = null;
        return { redirect: safeNextPath(req.originalUrl) };
      }
      const change = state?.change && (failure === undefined || state.durable) ? state.change : undefined;
      if (change) await commitIdentity(req, res, change, { resume, keys: sessionKeys });
      else if (state?.resumeToken && failure === undefined) resume.set(res, state.resumeToken);
      if (change) req.auth = change.kind === 'signIn' ? change.record : null;
    },
  };
}
