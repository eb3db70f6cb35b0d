import type { Config } from './config.ts';
import { createAccounts, type AccountHooks, type Accounts } from './auth/accounts.ts';
import { createGuestBudget, type GuestBudget } from './auth/guest-budget.ts';
import { createGuests, type Guests } from './auth/guests.ts';
import { SessionKeys } from './auth/identity.ts';
import { createKnownDevices, type KnownDevices } from './auth/known-devices.ts';
import type { LinkFlows } from './auth/link-helpers.ts';
import { createLoginLimits, type LoginLimits } from './auth/login-limits.ts';
import { createMailLinks } from './auth/mail-links.ts';
import { describeLookAlikes, findLookAlikeEmails } from './auth/look-alike-emails.ts';
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.ts';
import { openPostgresStorage } from './db/postgres/storage.ts';
import { openSqliteStorage } from './db/sqlite/storage.ts';
import type { Storage } from './db/storage.ts';
import { createRateLimiter } from './http/rate-limit.ts';
import { createMailLimits, type MailLimits } from './mail/mail-limits.ts';
import type { Mailer } from './mail/mailer.ts';
import { createOutboxMailer } from './mail/outbox-mailer.ts';
import { startSender, type SenderOptions } from './mail/sender.ts';
import { createMailTemplates, MAIL_VIEWS } from './mail/templates.ts';
import { createMailTransport } from './mail/transports.ts';
import { createSessions, type Sessions } from './http/sessions.ts';
import type { ServiceFactory } from './pages/request-helpers.ts';
import { resolveSessionSecret } from './secret.ts';
import { registerShop } from './shop/index.ts';

/** Everything the app needs, built once from the config and passed down: no globals. */
export interface AppContext {
  config: Config;
  /** SQLite under `DATA_DIR`, or PostgreSQL at `DATABASE_URL`. */
  storage: Storage;
  sessions: Sessions;
  passwords: PasswordHasher;
  guests: Guests;
  accounts: Accounts;
  hooks: AccountHooks;
  /** Session keys that belong to the browser, kept across sign-in (the features register theirs). */
  sessionKeys: SessionKeys;
  loginLimits: LoginLimits;
  guestBudget: GuestBudget;
  /** The cookie by which a browser proves it signed in to an account before (login limits). */
  knownDevices: KnownDevices;
  /** Queues mail in the request's unit of work; the sender started with the context delivers it. */
  mailer: Mailer;
  /** The mailed links: password reset, sign-in links, email verification, guest resume. */
  mailLinks: LinkFlows;
  /** What every form that sends mail takes a point of (MAIL_RATE_LIMIT): per client address and per recipient. */
  mailLimits: MailLimits;
  /** What templates `resolve(name)`. */
  services: Map<string, ServiceFactory>;
  /** Names every template sees, besides the helpers. */
  globals: Record<string, unknown>;
  now(): number;
  close(): Promise<void>;
}

export interface ContextOptions {
  now?: () => number;
  /** Start-up reports (look-alike emails) and the mail sender's lines. @default nothing is logged */
  log?: (message: string) => void;
  /** The mail sender's timing (tests make retries quick). @default sender.ts's defaults */
  mail?: SenderOptions;
}

export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const now = options.now ?? Date.now;
  const secret = resolveSessionSecret(config.dataDir, config.sessionSecret);
  const storage = await openStorage(config, now);
  const { records, events } = storage;
  const sessions = createSessions(config, secret, storage.sessions);
  if (options.log) for (const line of describeLookAlikes(await findLookAlikeEmails(records))) options.log(line);
  const passwords = createPasswordHasher({ cost: config.bcryptCost });
  const hooks: AccountHooks = { merge: [], delete: [] };
  const knownDevices = createKnownDevices(config, secret);
  const sender = startSender({ outbox: storage.outbox, transport: createMailTransport(config), now, log: options.log ?? (() => {}) }, options.mail);
  const mailer = createOutboxMailer({
    outbox: storage.outbox, templates: createMailTemplates({ dir: MAIL_VIEWS, cache: config.env === 'production' }),
    from: config.mailFrom, now, poke: sender.poke,
  });
  const mailLimits = createMailLimits(config.mailRateLimit, storage.limits);
  const guests = createGuests({ accounts: records, now, secret });
  const accounts = createAccounts({ records, events, passwords, sessions: sessions.index, pending: storage.pendingConversions, hooks, now });
  const mailLinks = createMailLinks({
    appUrl: config.appUrl, verificationRequired: config.emailVerification === 'required',
    records, events, tokens: storage.tokens, pending: storage.pendingConversions, transactor: storage.transactor,
    accounts, guests, passwords, sessions: sessions.index, mailer,
    limits: mailLimits, now, log: options.log ?? (() => {}),
  });
  const context: AppContext = {
    config, storage, sessions, passwords, hooks, knownDevices, mailer, mailLimits, mailLinks, guests, accounts, now,
    sessionKeys: new SessionKeys(),
    loginLimits: createLoginLimits({
      limiter: createRateLimiter(config.loginRateLimit, 'login', storage.limits), records, devices: knownDevices,
    }),
    guestBudget: createGuestBudget(createRateLimiter(config.guestRateLimit, 'guests', storage.limits)),
    services: new Map(),
    globals: {},
    async close() {
      // Mail forms answered but not yet done, then the sender: both still need the storage.
      await mailLinks.mailRequests.idle();
      await sender.stop();
      await Promise.all([storage.close(), passwords.close()]);
    },
  };
  registerShop({ ...context, stores: storage.shop, records, appUrl: config.appUrl, limits: storage.limits });
  return context;
}

/** PostgreSQL when `DATABASE_URL` is set, else the SQLite files under `DATA_DIR`. */
function openStorage(config: Config, now: () => number): Promise<Storage> {
  if (!config.databaseUrl) return openSqliteStorage(config, now);
  return openPostgresStorage({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, collections: config.collections }, now);
}
