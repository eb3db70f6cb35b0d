import path from 'node:path';
import type { Config } from './config.ts';
import { createAccounts, type AccountHooks, type Accounts } from './auth/accounts.ts';
import { createEventLog, type EventLog } from './auth/events.ts';
import { createGuests, type Guests } from './auth/guests.ts';
import { createKnownDevices, type KnownDevices } from './auth/known-devices.ts';
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.ts';
import { describeLookAlikes, findLookAlikeEmails } from './auth/look-alike-emails.ts';
import { createUserStore, type UserStore } from './auth/user-store.ts';
import { migrate } from './db/migrate.ts';
import { openDb, type Db } from './db/open.ts';
import { createRateLimiter, type RateLimiter } from './http/rate-limit.ts';
import { createSessions, type Sessions } from './http/sessions.ts';
import type { ServiceFactory } from './pages/helpers.ts';
import { resolveSessionSecret } from './secret.ts';
import { registerShop } from './shop/index.ts';

/** Everything the app needs, built once from the config and passed down: no globals. */
export interface AppContext {
  config: Config;
  db: Db;
  sessions: Sessions;
  users: UserStore;
  events: EventLog;
  passwords: PasswordHasher;
  guests: Guests;
  accounts: Accounts;
  hooks: AccountHooks;
  limiters: { guests: RateLimiter; login: RateLimiter };
  /** The cookie by which a browser proves it signed in to an account before (login limits). */
  knownDevices: KnownDevices;
  /** What templates `resolve(name)`. */
  services: Map<string, ServiceFactory>;
  /** Names every template sees, besides the helpers. */
  globals: Record<string, unknown>;
  now(): number;
  close(): Promise<void>;
}

export interface ContextOptions {
  now?: () => number;
  /** Start-up reports (look-alike emails). @default nothing is logged */
  log?: (message: string) => void;
}

export function createContext(config: Config, options: ContextOptions = {}): AppContext {
  const now = options.now ?? Date.now;
  const db = openDb(path.join(config.dataDir, 'app.db'));
  migrate(db, config.collections);
  const secret = resolveSessionSecret(config.dataDir, config.sessionSecret);
  const sessions = createSessions(config, secret);
  const users = createUserStore(db, config.collections);
  if (options.log) for (const line of describeLookAlikes(findLookAlikeEmails(users))) options.log(line);
  const events = createEventLog(db, now);
  const passwords = createPasswordHasher({ cost: config.bcryptCost });
  const hooks: AccountHooks = { merge: [], delete: [] };
  const context: AppContext = {
    config, db, sessions, users, events, passwords, hooks, now,
    guests: createGuests({ db, users, events, now }),
    accounts: createAccounts({ db, users, events, passwords, sessions: sessions.index, hooks, now }),
    limiters: { guests: createRateLimiter(config.guestRateLimit), login: createRateLimiter(config.loginRateLimit) },
    knownDevices: createKnownDevices(config, secret),
    services: new Map(),
    globals: {},
    async close() {
      await Promise.all([sessions.close(), passwords.close()]);
      db.close();
    },
  };
  registerShop(context);
  return context;
}
