/**
 * The app's configuration: read from the environment once, validated, frozen.
 * This is the only module that looks at `process.env` (through the `env` argument).
 */
import path from 'node:path';

export type TrustProxy = boolean | number | string;
export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
  /** `NODE_ENV`. Production turns on `Secure`/`__Host-` cookies and template caching. Default `development`. */
  env: NodeEnv;
  /** `PORT`. Default 3000. */
  port: number;
  /** `HOST`. Default `localhost`. */
  host: string;
  /** `DATA_DIR`: holds `app.db`, `sessions.db` and the generated session secret. Default `./data`. */
  dataDir: string;
  /** `SESSION_SECRET`; when absent outside production a generated one is kept in `DATA_DIR/session-secret`. */
  sessionSecret: string | undefined;
  /** `TRUST_PROXY`: Express's `trust proxy` value. Default `false`: `X-Forwarded-For` is ignored. */
  trustProxy: TrustProxy;
  /** `GUEST_COLLECTIONS`: the auth collections (one table each). Default `users,customers`. */
  collections: readonly string[];
  /** `ANONYMOUS_ENABLED`: whether `signInAnonymously` may create guests. Default true. */
  anonymousEnabled: boolean;
  /** `GUEST_RATE_LIMIT`: new guests per minute per client IP; 0 turns the limit off. Default 30. */
  guestRateLimit: number;
  /** `LOGIN_RATE_LIMIT`: password attempts per minute per IP, wrong passwords per minute per account; 0 off. Default 10. */
  loginRateLimit: number;
  /** `GUEST_RETENTION_DAYS`: idle guests older than this are removed by cleanup; also the resume cookie's life. 1–90, default 30. */
  guestRetentionDays: number;
  /** `BCRYPT_COST`: bcrypt cost for account passwords. 10–14, default 12. */
  bcryptCost: number;
  /** `SESSION_TTL_HOURS`: how long an idle session lives. Default 7 days. */
  sessionTtlHours: number;
  /** `CLEANUP_INTERVAL`: run guest cleanup inside the server this often (e.g. `6h`); unset is off. */
  cleanupIntervalMs: number;
  /**
   * `DATABASE_URL` (`postgres://user:password@host:5432/db`): keep everything several app
   * processes share (accounts, shop, audit trail, sessions, rate limits) in PostgreSQL. Unset:
   * SQLite files under `DATA_DIR`.
   */
  databaseUrl: string | null;
  /** `DATABASE_POOL_SIZE`: PostgreSQL connections per process at most. 1–1000, default 10. */
  databasePoolSize: number;
  /**
   * `APP_URL`: the site's public origin (`https://shop.example`), the base of every link in a mail
   * or to an identity provider; never the request's Host header. Required in production; default
   * `http://localhost:PORT`.
   */
  appUrl: string;
  /** `SMTP_URL` (`smtp://user:pass@host:587`, `smtps://…`); unset: mail goes to `DATA_DIR/outbox/` as `.eml` files. Required in production. */
  smtpUrl: string | null;
  /** `MAIL_FROM`: the sender of every mail. Required in production; default `guestkit <no-reply@localhost>`. */
  mailFrom: string;
  /** `EMAIL_VERIFICATION`: `optional` (default) or `required` (no sign-in, no conversion until the address is verified). */
  emailVerification: 'optional' | 'required';
  /**
   * `OIDC_PROVIDERS` (`google,acme`), then `OIDC_<NAME>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET`,
   * and optional `_LABEL` and `_TRUST_EMAIL` for each: the OpenID Connect providers a visitor may
   * continue with. Default none: no buttons and no routes.
   */
  /** `MAIL_RATE_LIMIT`: mails a visitor may cause per minute (receipts, links), per client IP and per recipient; 0 off. Default 10. */
  mailRateLimit: number;
  identityProviders: readonly IdentityProviderConfig[];
}

/** One OpenID Connect provider, from the `OIDC_<NAME>_*` variables. */
export interface IdentityProviderConfig {
  /** Its name in `OIDC_PROVIDERS`: lower-case letters and digits; in its routes (`/auth/<name>/…`). */
  name: string;
  /** `OIDC_<NAME>_ISSUER`: the issuer identifier (https; http only on loopback outside production). */
  issuer: string;
  clientId: string;
  /** `OIDC_<NAME>_CLIENT_SECRET`: never repeated in an error or a log. */
  clientSecret: string;
  /** `OIDC_<NAME>_LABEL`, as in "Continue with <label>". Default the name, capitalised. */
  label: string;
  /**
   * `OIDC_<NAME>_TRUST_EMAIL`: whether this provider's `email_verified` is believed, so that its
   * verified email may link to the existing account with that email. Default false: a provider
   * that lets its users claim any address would otherwise open anybody's account.
   */
  trustEmail: boolean;
  /** `APP_URL/auth/<name>/callback`: the redirect URI to register with the provider. */
  redirectUri: string;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,39}$/;
// Collection names become table names: none may shadow the app's own tables.
const RESERVED_TABLES = new Set(['accounts', 'auth_events', 'schema_migrations', 'sessions', 'rate_limits', 'identities', 'products',
  'cart_items', 'orders', 'order_lines', 'notes', 'outbox', 'account_tokens', 'pending_conversions', 'sqlite_master', 'sqlite_sequence']);

/** A name that may become a collection's table: a plain identifier, not one of the app's own tables. */
export function isCollectionName(name: string): boolean {
  return COLLECTION_NAME.test(name) && !RESERVED_TABLES.has(name);
}

export function loadConfig(env: Env = {}): Readonly<Config> {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const sessionSecret = env.SESSION_SECRET || undefined;
  if (nodeEnv === 'production' && (!sessionSecret || !isStrongSecret(sessionSecret))) {
    throw new ConfigError('SESSION_SECRET', 'must be set in production to a random value of at least 32 characters '
      + '(e.g. `openssl rand -hex 32`)');
  }
  if (sessionSecret && !isStrongSecret(sessionSecret)) {
    throw new ConfigError('SESSION_SECRET', 'is too weak: use at least 32 characters with some variety');
  }
  const mailSettings = mail(env, nodeEnv);
  return Object.freeze({
    env: nodeEnv,
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || 'localhost',
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    sessionSecret,
    trustProxy: trustProxy(env.TRUST_PROXY),
    collections: Object.freeze(collections(env.GUEST_COLLECTIONS)),
    anonymousEnabled: boolean(env, 'ANONYMOUS_ENABLED', true),
    guestRateLimit: integer(env, 'GUEST_RATE_LIMIT', 30, 0, 1_000_000),
    loginRateLimit: integer(env, 'LOGIN_RATE_LIMIT', 10, 0, 1_000_000),
    mailRateLimit: integer(env, 'MAIL_RATE_LIMIT', 10, 0, 1_000_000),
    guestRetentionDays: integer(env, 'GUEST_RETENTION_DAYS', 30, 1, 90),
    bcryptCost: integer(env, 'BCRYPT_COST', 12, 10, 14),
    sessionTtlHours: integer(env, 'SESSION_TTL_HOURS', 24 * 7, 1, 24 * 90),
    cleanupIntervalMs: env.CLEANUP_INTERVAL ? duration('CLEANUP_INTERVAL', env.CLEANUP_INTERVAL) : 0,
    databaseUrl: databaseUrl(env.DATABASE_URL),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    ...mailSettings,
    identityProviders: Object.freeze(identityProviders(env, nodeEnv, mailSettings.appUrl)),
  });
}

const PROVIDER_NAME = /^[a-z][a-z0-9]{0,29}$/;

function identityProviders(env: Env, nodeEnv: NodeEnv, appUrl: string): IdentityProviderConfig[] {
  const names = (env.OIDC_PROVIDERS ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  if (new Set(names).size !== names.length) throw new ConfigError('OIDC_PROVIDERS', `names a provider twice (got "${env.OIDC_PROVIDERS}")`);
  return names.map((name) => {
    if (!PROVIDER_NAME.test(name)) {
      throw new ConfigError('OIDC_PROVIDERS', `has an invalid provider name "${name}" (lower-case letters and digits, starting with a letter)`);
    }
    const variable = (suffix: string) => `OIDC_${name.toUpperCase()}_${suffix}`;
    const required = (suffix: string) => {
      const value = env[variable(suffix)]?.trim();
      if (!value) throw new ConfigError(variable(suffix), `must be set: "${name}" is in OIDC_PROVIDERS`);
      return value;
    };
    const label = env[variable('LABEL')]?.trim() || name[0]!.toUpperCase() + name.slice(1);
    if (label.length > 40 || /[\u0000-\u001f\u007f]/.test(label)) throw new ConfigError(variable('LABEL'), 'must be at most 40 characters, on one line');
    return Object.freeze({
      name,
      issuer: issuer(variable('ISSUER'), required('ISSUER'), nodeEnv),
      clientId: required('CLIENT_ID'),
      clientSecret: required('CLIENT_SECRET'),
      label,
      trustEmail: boolean(env, variable('TRUST_EMAIL'), false),
      redirectUri: `${appUrl}/auth/${name}/callback`,
    });
  });
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An issuer identifier: https with no query or fragment (OpenID Connect Discovery). Plain http
 * only for a provider on this machine, outside production: tokens would cross a network in clear.
 */
function issuer(variable: string, value: string, nodeEnv: NodeEnv): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `must be a URL such as https://accounts.google.com (got "${value}")`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && nodeEnv !== 'production';
  if ((url.protocol !== 'https:' && !loopbackHttp) || url.username || url.password || url.search || url.hash) {
    throw new ConfigError(variable, `must be an https URL with no query or fragment, such as https://accounts.google.com (got "${value}")`);
  }
  return value;
}

/** APP_URL, SMTP_URL and MAIL_FROM: optional in development and tests, each required in production. */
function mail(env: Env, nodeEnv: NodeEnv): Pick<Config, 'appUrl' | 'smtpUrl' | 'mailFrom' | 'emailVerification'> {
  const production = nodeEnv === 'production';
  for (const name of ['APP_URL', 'SMTP_URL', 'MAIL_FROM']) {
    if (production && !env[name]) throw new ConfigError(name, 'must be set in production (see the README\'s configuration table)');
  }
  return {
    appUrl: appUrl(env.APP_URL, integer(env, 'PORT', 3000, 0, 65535)),
    smtpUrl: smtpUrl(env.SMTP_URL),
    mailFrom: mailFrom(env.MAIL_FROM),
    emailVerification: oneOf(env, 'EMAIL_VERIFICATION', ['optional', 'required'], 'optional'),
  };
}

/** An http(s) origin with no path, query or fragment; links are built by appending paths to it. */
function appUrl(value: string | undefined, port: number): string {
  if (!value) return `http://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('APP_URL', `must be a URL such as https://shop.example (got "${value}")`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password
    || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new ConfigError('APP_URL', `must be an http(s) origin with no path, such as https://shop.example (got "${value}")`);
  }
  return url.origin;
}

function smtpUrl(value: string | undefined): string | null {
  if (!value) return null;
  let url: URL | undefined;
  try { url = new URL(value); } catch { /* below */ }
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname) {
    throw new ConfigError('SMTP_URL', 'must be smtp://user:password@host:587 or smtps://… (the value is not repeated: it may hold a password)');
  }
  return value;
}

function mailFrom(value: string | undefined): string {
  if (!value) return 'guestkit <no-reply@localhost>';
  // A display name and an address, or an address: no line breaks (header injection).
  if (/[\r\n]/.test(value) || !/^(?:[^<>@]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/.test(value.trim())) {
    throw new ConfigError('MAIL_FROM', `must be an address, or a name and <address> (got "${value}")`);
  }
  return value.trim();
}

/** A `postgres://` URL or null; the error never repeats the value, which may hold a password. */
function databaseUrl(value: string | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL: use postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// (got ${url.protocol}//…)`);
  }
  if (!url.hostname && !url.searchParams.has('host')) throw new ConfigError('DATABASE_URL', 'names no host');
  return value;
}

/** `url` with its password replaced by `***`: for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(DATABASE_URL)';
  }
}

/** Parses `90s`, `15m`, `12h`, `7d` into milliseconds; `variable` names the source in errors. */
export function duration(variable: string, text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new ConfigError(variable, `must be a duration such as 12h or 7d (got "${text}")`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

function isStrongSecret(secret: string): boolean {
  return secret.length >= 32 && new Set(secret).size >= 10;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name];
  if (!value) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return Number(value);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return fallback;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(name, `must be true or false (got "${env[name]}")`);
}

function collections(value: string | undefined): string[] {
  const names = (value ?? 'users,customers').split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new ConfigError('GUEST_COLLECTIONS', 'must name at least one collection');
  for (const name of names) {
    if (!isCollectionName(name)) {
      throw new ConfigError('GUEST_COLLECTIONS', `has an invalid collection name "${name}" `
        + '(lower-case letters, digits and _, starting with a letter; not a name the app uses itself)');
    }
  }
  if (!names.includes('users')) {
    throw new ConfigError('GUEST_COLLECTIONS', 'must include "users": registration creates accounts there');
  }
  return [...new Set(names)];
}

/** The values Express's `trust proxy` accepts: a boolean, a hop count, or names/addresses/subnets. */
function trustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim();
  if (!text || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const parts = text.split(',').map((part) => part.trim());
  const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
  for (const part of parts) {
    if (!named.has(part) && !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(part)) {
      throw new ConfigError('TRUST_PROXY', `must be true, a hop count, loopback/linklocal/uniquelocal, `
        + `or IP addresses/subnets (got "${part}")`);
    }
  }
  return parts.join(',');
}
