import type { Request } from 'express';
import { isbot } from 'isbot';
import type { Config } from '../config.ts';
import { submittedToken } from '../http/csrf.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { PageScope } from '../pages/scope.ts';
import type { Accounts, Credentials } from './accounts.ts';
import { AuthError } from './errors.ts';
import type { EventLog } from './events.ts';
import type { GuestSession, Guests } from './guests.ts';
import type { KnownDevices } from './known-devices.ts';
import { createLoginLimits } from './login-limits.ts';
import type { ResumeCookie } from './session-auth.ts';
import type { AuthRecord, UserStore } from './user-store.ts';

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

// Two requests from one browser racing to create a guest (a double click on "Continue as
// Guest") get the same guest; entries live a few seconds.
const RECENT_GUEST_MS = 10_000;

export interface AuthHelperDeps {
  config: Config; users: UserStore; guests: Guests; accounts: Accounts; events: EventLog;
  loginLimiter: RateLimiter; knownDevices: KnownDevices; resume: ResumeCookie; now(): number;
}

/** The auth helpers templates call, bound to one request's scope. */
export function createAuthHelpers(deps: AuthHelperDeps) {
  const { config, users, guests, accounts, events, loginLimiter, knownDevices, resume, now } = deps;
  const loginLimits = createLoginLimits({ limiter: loginLimiter, users, devices: knownDevices });
  const recentGuests = new Map<string, { guest: GuestSession; expires: number }>();

  function rememberGuest(key: string, guest: GuestSession): void {
    const time = now();
    for (const [entryKey, entry] of recentGuests) {
      if (entry.expires > time) break; // insertion order is expiry order
      recentGuests.delete(entryKey);
    }
    recentGuests.set(key, { guest, expires: time + RECENT_GUEST_MS });
  }

  /**
   * What one browser's racing requests share: the session id it sent or, before it has a
   * session, the CSRF token of the form it submitted (a double click sends the same one twice).
   * Not the CSRF cookie's secret: whoever planted that cookie would get the browser's new guest.
   */
  function browserOf(req: Request): string | undefined {
    if (!req.sessionFresh) return `session:${req.sessionID}`;
    const token = submittedToken(req);
    return token ? `form:${token}` : undefined;
  }

  return function authHelpers(scope: PageScope) {
    const { req } = scope;

    /** The current guest's resume token: the browser's own, or a new one when it has none. */
    function tokenOf(guest: AuthRecord): string {
      const cookie = resume.read(req);
      if (cookie?.startsWith(`${guest.collection}.${guest.id}.`)) return cookie;
      const token = guests.reissue(guest) ?? '';
      scope.resumeToken = token;
      return token;
    }

    /** The guest this browser signed out of softly, in `collection`, if it still exists. */
    function pausedGuest(collection: string): AuthData | null {
      const token = resume.readPaused(req);
      if (!token?.startsWith(`${collection}.`)) return null;
      const record = guests.resume(token);
      return record ? { token, record } : null;
    }

    /** Runs a password-checked action on the account `email` names, within the login limits. */
    async function limitAttempts<T>(email: unknown, work: () => Promise<T>): Promise<T> {
      const attempt = await loginLimits.admit(req, email);
      let wrongPassword = false;
      try {
        return await work();
      } catch (error) {
        wrongPassword = error instanceof AuthError && error.code === 'invalid_credentials';
        throw error;
      } finally {
        attempt.settle(wrongPassword);
      }
    }

    /** The signed-in registered account, for a password-checked action counted like a login. */
    async function registeredAttempt<T>(work: (account: AuthRecord) => Promise<T>): Promise<T> {
      const account = scope.auth;
      if (!account || account.isAnonymous) throw new AuthError('not_signed_in');
      return limitAttempts(account.email, () => work(account));
    }

    /** Signs the visitor in to an account whose password they just proved, on this browser too. */
    function signInWithPassword(record: AuthRecord): void {
      knownDevices.remember(req, scope.res, record.id);
      scope.changeIdentity({ kind: 'signIn', record, resumeToken: null, activeAt: now() });
    }

    return {
      /** Creates a guest record and signs the visitor in, within this request. Synchronous. */
      signInAnonymously(options: SignInAnonymouslyOptions = {}): AuthData {
        const collection = options.collection ?? 'users';
        if (!users.has(collection)) scope.raise(new AuthError('unknown_collection'));
        const current = scope.auth;
        if (current && !current.isAnonymous) scope.raise(new AuthError('already_signed_in'));
        if (current && current.collection === collection && !options.forceNew) {
          return { token: tokenOf(current), record: current };
        }
        const paused = !current && !options.forceNew ? pausedGuest(collection) : null;
        if (paused) {
          scope.changeIdentity({ kind: 'signIn', record: paused.record, resumeToken: paused.token, activeAt: 0 });
          return paused;
        }
        if (!config.anonymousEnabled || isbot(req.headers['user-agent'] ?? '')) {
          scope.raise(new AuthError('anonymous_disabled'));
        }
        const browser = browserOf(req);
        const key = `${browser}:${collection}`;
        const entry = options.forceNew || !browser ? undefined : recentGuests.get(key);
        const recent = entry && entry.expires > now() ? entry.guest : undefined;
        const budget = scope.guestBudget;
        if (!recent && budget && !budget.granted) {
          scope.raise(new AuthError('rate_limited', budget.retryAfterSeconds));
        }
        const guest = recent ?? createGuest(collection, options.metadata);
        if (!recent && browser) rememberGuest(key, guest);
        scope.changeIdentity({ kind: 'signIn', record: guest.record, resumeToken: guest.token, activeAt: 0 });
        return { token: guest.token, record: guest.record };
      },

      /** Makes the signed-in guest a registered account, keeping its id. */
      convertGuest: (input: Credentials) => scope.guard(() => limitAttempts(input?.email, async () => {
        const record = await accounts.convert(scope.auth, input ?? {});
        signInWithPassword(record);
        return record;
      })),

      /** Registers a new account in `users`, or converts the signed-in guest. */
      signUp: (input: Credentials) => scope.guard(() => limitAttempts(input?.email, async () => {
        const record = await accounts.register(scope.auth, input ?? {});
        signInWithPassword(record);
        return record;
      })),

      /** Password sign-in; a guest signing in hands their work to the account (merge handlers). */
      signIn: (input: { email: string; password: string }) => scope.guard(() => limitAttempts(input?.email, async () => {
        const user = await accounts.verifyLogin(input?.email, input?.password);
        const current = scope.auth;
        if (current?.isAnonymous) accounts.merge(current, user);
        events.record('signed_in', user.id, user.collection);
        signInWithPassword(user);
        return user;
      })),

      /** Changes the signed-in account's password after checking the current one. */
      changePassword: (current: unknown, next: unknown) => scope.guard(() => registeredAttempt(async (account) => {
        await accounts.changePassword(account, current, next);
        // A new password should not leave other sessions signed in: this one moves to a new id.
        scope.changeIdentity({ kind: 'signIn', record: account, resumeToken: null, activeAt: now() });
      })),

      /** Deletes the signed-in registered account (password required) and every session it has. */
      deleteAccount: (password: unknown) => scope.guard(() => registeredAttempt(async (account) => {
        await accounts.deleteAccount(account, password);
        scope.changeIdentity({ kind: 'signOut', forgetGuest: true });
      })),

      /**
       * Ends the session. A guest's soft sign-out pauses their resume cookie: their next
       * `signInAnonymously()` brings the same guest back. `forgetGuest` (and any registered
       * user's sign-out) deletes it.
       */
      signOut(options: { forgetGuest?: boolean } = {}): void {
        const current = scope.auth;
        if (current) events.record('signed_out', current.id, current.collection);
        const forgetGuest = !current?.isAnonymous || options.forgetGuest === true;
        // Forgetting must end the guest's credential, not just this browser's copy of it: a
        // resume cookie copied earlier would otherwise still sign in as them.
        if (current?.isAnonymous && forgetGuest) guests.reissue(current);
        scope.changeIdentity({ kind: 'signOut', forgetGuest });
      },

      /** The signed-in record (guest or registered); otherwise redirects to sign-in and returns null. */
      requireAuth(): AuthRecord | null {
        if (scope.auth) return scope.auth;
        scope.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
        return null;
      },

      /** A registered account; guests are sent to the conversion page, others to sign-in. */
      requireRegistered(): AuthRecord | null {
        if (scope.auth && !scope.auth.isAnonymous) return scope.auth;
        const target = scope.auth ? '/register' : '/login';
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

    function createGuest(collection: string, metadata: Record<string, unknown> | undefined): GuestSession {
      scope.guestsCreated++;
      return guests.create(collection, metadata ?? {});
    }
  };
}

/** The Referer's path when it is on this site and not one of `excluded`, else `/`. */
export function refererPath(req: Request, excluded: readonly string[] = []): string {
  try {
    const referer = new URL(req.headers.referer ?? '');
    if (referer.host !== req.headers.host || excluded.includes(referer.pathname)) return '/';
    return safeNextPath(referer.pathname + referer.search);
  } catch {
    return '/';
  }
}

// `next` becomes the Location header after sign-in: a proxy with an 8 kB header buffer answers
// 502 to a 60,000-character one. Real paths on this site are far shorter than 2 kB.
const MAX_NEXT_PATH_LENGTH = 2048;

/**
 * Same-site paths only: `//host`, `/\\host`, schemes, control characters and paths over 2 kB
 * (once percent-encoded) all fall back to `/`.
 */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  try {
    const url = new URL(value, 'http://same.site');
    const path = url.pathname + url.search + url.hash;
    if (path.length > MAX_NEXT_PATH_LENGTH) return '/';
    // Check the normalised path, not the input: `/.//host` and `/x/..//host` normalise to
    // `//host`; `/%2F%2Fhost` and `/%5Chost` become `//host` or `/\\host` wherever a proxy or
    // browser decodes them. All of those leave the site.
    return url.origin === 'http://same.site' && !/^\/[/\\]/.test(decodeURIComponent(path)) ? path : '/';
  } catch {
    return '/';
  }
}
