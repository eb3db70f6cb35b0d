/**
 * Configuration is read once from the environment. A bad value stops the start with a message
 * that names the variable; the session secret is generated and kept when none is given.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { resolveSessionSecret } from '../src/secret.ts';
import { STRONG_SECRET } from './pages/fixture-site.ts';
import { PRODUCTION_MAIL, tempDataDir } from './support.ts';


/** The ConfigError `loadConfig(env)` throws; fails the test when it throws nothing. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('defaults', () => {
  it('serve on localhost:3000 in development with data in ./data', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.port).toBe(3000);
    expect(config.host).toBe('localhost');
    expect(config.dataDir).toBe(path.resolve('data'));
  });

  it('trust no proxy, have users and customers collections, and allow guests', () => {
    const config = loadConfig({});
    expect(config.trustProxy).toBe(false);
    expect(config.collections).toEqual(['users', 'customers']);
    expect(config.anonymousEnabled).toBe(true);
    expect(config.sessionSecret).toBeUndefined();
    expect(config.guestRetentionDays).toBe(30);
    expect(config.mailRateLimit).toBe(10);
    expect(config.bcryptCost).toBe(12);
  });

  it('treat an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', NODE_ENV: '', HOST: '' })).toMatchObject({ port: 3000, env: 'development', host: 'localhost' });
  });

  it('are frozen: nothing can change the config after start-up', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.collections)).toBe(true);
  });
});

describe('values it accepts', () => {
  it('reads PORT, HOST, DATA_DIR and NODE_ENV', () => {
    const config = loadConfig({ PORT: '8080', HOST: '0.0.0.0', DATA_DIR: '/tmp/somewhere', NODE_ENV: 'test' });
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', dataDir: '/tmp/somewhere', env: 'test' });
  });

  it.each([
    ['1', 1], ['2', 2], ['true', true], ['false', false], ['loopback', 'loopback'],
    ['10.0.0.1', '10.0.0.1'], ['10.0.0.0/8, 192.168.1.0/24', '10.0.0.0/8,192.168.1.0/24'], ['loopback,uniquelocal', 'loopback,uniquelocal'],
    ['::1', '::1'],
  ])('passes TRUST_PROXY=%s to Express as %s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('reads GUEST_COLLECTIONS as a list, trimmed and without repeats', () => {
    expect(loadConfig({ GUEST_COLLECTIONS: ' users , members,users ' }).collections).toEqual(['users', 'members']);
  });

  it.each([['false', false], ['0', false], ['no', false], ['TRUE', true], ['on', true]])(
    'reads ANONYMOUS_ENABLED=%s as %s', (value, expected) => {
      expect(loadConfig({ ANONYMOUS_ENABLED: value }).anonymousEnabled).toBe(expected);
    });

  it('accepts the edges of each range', () => {
    expect(loadConfig({ BCRYPT_COST: '10', GUEST_RETENTION_DAYS: '1' })).toMatchObject({ bcryptCost: 10, guestRetentionDays: 1 });
    expect(loadConfig({ BCRYPT_COST: '14', GUEST_RETENTION_DAYS: '90' })).toMatchObject({ bcryptCost: 14, guestRetentionDays: 90 });
  });

  it('starts in production with a strong SESSION_SECRET', () => {
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: STRONG_SECRET, ...PRODUCTION_MAIL }).sessionSecret).toBe(STRONG_SECRET);
  });
});

describe('an invalid variable stops the start with an error naming it', () => {
  const invalid: Array<[string, Record<string, string>]> = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['NODE_ENV', { NODE_ENV: 'staging' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'nonsense' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'loopback, evil host' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,Customers' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,bad-name' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,users; DROP TABLE accounts' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,1members' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,accounts' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,sessions' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,orders' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,schema_migrations' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'customers' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: ' , ' }],
    ['BCRYPT_COST', { BCRYPT_COST: '9' }],
    ['BCRYPT_COST', { BCRYPT_COST: '15' }],
    ['BCRYPT_COST', { BCRYPT_COST: 'twelve' }],
    ['GUEST_RETENTION_DAYS', { GUEST_RETENTION_DAYS: '0' }],
    ['GUEST_RETENTION_DAYS', { GUEST_RETENTION_DAYS: '91' }],
    ['ANONYMOUS_ENABLED', { ANONYMOUS_ENABLED: 'maybe' }],
    ['GUEST_RATE_LIMIT', { GUEST_RATE_LIMIT: 'lots' }],
    ['MAIL_RATE_LIMIT', { MAIL_RATE_LIMIT: '-1' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,outbox' }],
    ['CLEANUP_INTERVAL', { CLEANUP_INTERVAL: 'hourly' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,rate_limits' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://shop:secret@db/shop' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres:///shop' }],
    ['DATABASE_POOL_SIZE', { DATABASE_POOL_SIZE: '0' }],
    ['DATABASE_POOL_SIZE', { DATABASE_POOL_SIZE: 'many' }],
    ['MAIL_RATE_LIMIT', { MAIL_RATE_LIMIT: 'five' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,account_tokens' }],
    ['GUEST_COLLECTIONS', { GUEST_COLLECTIONS: 'users,pending_conversions' }],
  ];
  for (const [variable, env] of invalid) {
    it(`${variable} for ${JSON.stringify(env)}`, () => {
      const error = configError(env);
      expect(error.variable).toBe(variable);
      expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${variable} `));
    });
  }

  it('quotes the bad value so the operator sees what was read', () => {
    expect(configError({ PORT: 'abc' }).message).toContain('"abc"');
    expect(configError({ GUEST_COLLECTIONS: 'users,accounts' }).message).toContain('"accounts"');
  });
});

describe('DATABASE_URL', () => {
  it('is unset by default: the SQLite files under DATA_DIR, with a pool of 10 for when it is set', () => {
    expect(loadConfig({})).toMatchObject({ databaseUrl: null, databasePoolSize: 10 });
  });

  it('reads a postgres:// or postgresql:// URL, and DATABASE_POOL_SIZE', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://shop:secret@db.internal:5432/shop', DATABASE_POOL_SIZE: '25' }))
      .toMatchObject({ databaseUrl: 'postgres://shop:secret@db.internal:5432/shop', databasePoolSize: 25 });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/shop' }).databaseUrl).toBe('postgresql://db/shop');
  });

  it('never repeats the password of a URL it refuses', () => {
    expect(configError({ DATABASE_URL: 'mysql://shop:hunter2-secret@db/shop' }).message).not.toContain('hunter2');
    expect(configError({ DATABASE_URL: 'postgres://shop:hunter2 secret@/' }).message).not.toContain('hunter2');
  });
});

describe('APP_URL, SMTP_URL, MAIL_FROM', () => {
  it('default, outside production, to http://localhost:PORT, the outbox folder and a local sender', () => {
    expect(loadConfig({ PORT: '4000' })).toMatchObject({
      appUrl: 'http://localhost:4000', smtpUrl: null, mailFrom: 'guestkit <no-reply@localhost>', emailVerification: 'optional',
    });
  });

  it('limit the mail a visitor may cause to 10 a minute by default (MAIL_RATE_LIMIT, 0 off)', () => {
    expect(loadConfig({}).mailRateLimit).toBe(10);
    expect(loadConfig({ MAIL_RATE_LIMIT: '0' }).mailRateLimit).toBe(0);
  });

  it.each(['APP_URL', 'SMTP_URL', 'MAIL_FROM'])('stop a production start naming %s when it is missing', (name) => {
    const env: Record<string, string> = { NODE_ENV: 'production', SESSION_SECRET: STRONG_SECRET, ...PRODUCTION_MAIL };
    delete env[name];
    expect(configError(env).variable).toBe(name);
  });

  it('read APP_URL as an origin, so links never carry a stray path', () => {
    expect(loadConfig({ APP_URL: 'https://shop.example/' }).appUrl).toBe('https://shop.example');
    expect(configError({ APP_URL: 'https://shop.example/shop' }).variable).toBe('APP_URL');
    expect(configError({ APP_URL: 'javascript:alert(1)' }).variable).toBe('APP_URL');
  });

  it('refuse an SMTP_URL that is not smtp(s) without repeating it, and a MAIL_FROM with a line break', () => {
    const error = configError({ SMTP_URL: 'http://user:hunter2@mail.example' });
    expect(error.variable).toBe('SMTP_URL');
    expect(error.message).not.toContain('hunter2');
    expect(configError({ MAIL_FROM: 'Shop <shop@example.com>\r\nBcc: all@example.com' }).variable).toBe('MAIL_FROM');
    expect(loadConfig({ SMTP_URL: 'smtps://u:p@mail.example:465', MAIL_FROM: 'shop@example.com', EMAIL_VERIFICATION: 'required' }))
      .toMatchObject({ smtpUrl: 'smtps://u:p@mail.example:465', mailFrom: 'shop@example.com', emailVerification: 'required' });
  });
});

describe('SESSION_SECRET', () => {
  it('must be set in production', () => {
    const error = configError({ NODE_ENV: 'production' });
    expect(error.variable).toBe('SESSION_SECRET');
    expect(error.message).toContain('production');
  });

  it.each([['too short', 'short-secret'], ['31 characters', STRONG_SECRET.slice(0, 31)], ['one character repeated', 'a'.repeat(64)]])(
    'is refused in production when weak (%s)', (_what, secret) => {
      expect(configError({ NODE_ENV: 'production', SESSION_SECRET: secret }).variable).toBe('SESSION_SECRET');
    });

  it('is refused when weak outside production too', () => {
    expect(configError({ SESSION_SECRET: 'password' }).variable).toBe('SESSION_SECRET');
  });
});

describe('the generated session secret', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true }); });
  const dataDir = () => { const dir = tempDataDir(); dirs.push(dir); return path.join(dir, 'data'); };

  it('is created in DATA_DIR/session-secret, readable only by its owner (0600)', () => {
    const dir = dataDir();
    const secret = resolveSessionSecret(dir, undefined);
    const file = path.join(dir, 'session-secret');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(secret);
    expect(secret.length).toBeGreaterThanOrEqual(32);
  });

  it('is reused on the next start, so sessions survive a restart', () => {
    const dir = dataDir();
    const first = resolveSessionSecret(dir, undefined);
    expect(resolveSessionSecret(dir, undefined)).toBe(first);
  });

  it('differs between data dirs', () => {
    expect(resolveSessionSecret(dataDir(), undefined)).not.toBe(resolveSessionSecret(dataDir(), undefined));
  });

  it('is not written when SESSION_SECRET is configured', () => {
    const dir = dataDir();
    expect(resolveSessionSecret(dir, STRONG_SECRET)).toBe(STRONG_SECRET);
    expect(fs.existsSync(path.join(dir, 'session-secret'))).toBe(false);
  });
});
