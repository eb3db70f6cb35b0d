/**
 * Test support: a real app (real SQLite files in a temp dir, real sessions, real bcrypt, real
 * CSRF) listening on an ephemeral port, and a browser-like client that keeps cookies and fills
 * in CSRF tokens the way a browser submitting the page's form would.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { createApp, type AppOptions } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createContext, type AppContext } from '../src/context.ts';
import { createHttpServer } from '../src/http/http-server.ts';
import { openSessionDb, type Db } from '../src/db/sqlite/open.ts';
import type { SqliteStorage } from '../src/db/sqlite/storage.ts';
import type { PostgresStorage } from '../src/db/postgres/storage.ts';
import { inject } from 'vitest';
import { createDatabaseOn, dropDatabase, startPostgres, type PostgresServer } from './db/postgres/server.ts';

/** What a production start needs besides SESSION_SECRET (nothing listens at that SMTP address). */
export const PRODUCTION_MAIL = { APP_URL: 'https://shop.example', SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Shop <shop@example.com>' };

export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

/**
 * The backend the apps of this run use: PostgreSQL in vitest.config.ts's `postgres` project
 * (`GUESTKIT_TEST_BACKEND=postgres`), else SQLite.
 */
export const BACKEND: 'sqlite' | 'postgres' = process.env.GUESTKIT_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

let postgres: Promise<PostgresServer> | undefined;
/**
 * A new database on the run's throwaway PostgreSQL (test/postgres-cluster.ts), or, when no project
 * started one, on this test process's own (started on first use, stopped at exit).
 */
export async function testDatabaseUrl(): Promise<string> {
  const shared = inject('postgresAdminUrl');
  if (shared) return createDatabaseOn(shared);
  postgres ??= startPostgres();
  return (await postgres).createDatabase();
}

export interface TestApp {
  ctx: AppContext;
  backend: 'sqlite' | 'postgres';
  /** The SQLite app database, to look at rows; throws on PostgreSQL (use `sql`). */
  db: Db;
  /**
   * sessions.db, opened by the test (the server reaches it through connect-sqlite3's own
   * connection) to look at or tamper with session rows; throws on PostgreSQL.
   */
  sessionDb: Db;
  /**
   * Rows of the app database on either backend: `?` placeholders, and values as SQLite gives
   * them (booleans as 1/0, JSON as text), so one expectation serves both. test/rows.ts builds on it.
   */
  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): Promise<T[]>;
  server: Server;
  url: string;
  dataDir: string;
  /** What the app logged besides pages (the mail sender's lines). Point its mail at a test SMTP server with `startApp(smtp.env)`. */
  logs: string[];
  /** A new browser: its own cookie jar. */
  browser(): Browser;
  close(): Promise<void>;
}

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'guestkit-test-'));
}

/**
 * Starts the app with `env` on top of test defaults (bcrypt cost 10, limits off unless set; mail
 * to DATA_DIR/outbox unless SMTP_URL), on an ephemeral port or `options.port` (a browser spec
 * whose APP_URL must be the app's real address).
 */
export async function startApp(env: Record<string, string> = {}, options: AppOptions & { dataDir?: string; port?: number } = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? tempDataDir();
  // A database of its own, dropped when the app closes: hundreds of apps would fill the disk.
  const ownDatabase = BACKEND === 'postgres' && env.DATABASE_URL === undefined ? await testDatabaseUrl() : undefined;
  const database = ownDatabase ? { DATABASE_URL: ownDatabase } : {};
  const config = loadConfig({
    NODE_ENV: 'test', BCRYPT_COST: '10', GUEST_RATE_LIMIT: '0', LOGIN_RATE_LIMIT: '0', MAIL_RATE_LIMIT: '0', DATA_DIR: dataDir, ...database, ...env,
  });
  const logs: string[] = [];
  const ctx = await createContext(config, { log: (line) => logs.push(line) });
  await ctx.sessions.ready;
  const server = createHttpServer(createApp(ctx, { log: () => {}, ...options })).listen(options.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const onPostgres = config.databaseUrl !== null;
  const sessionDb = onPostgres ? undefined : openSessionDb(path.join(dataDir, 'sessions.db'));
  const sqliteOnly = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`this test reads ${what} directly, which exists on SQLite only: use app.sql`);
    return value;
  };
  return {
    ctx, server, url, dataDir, logs,
    backend: onPostgres ? 'postgres' : 'sqlite',
    get db() { return sqliteOnly(onPostgres ? undefined : (ctx.storage as SqliteStorage).db, 'app.db'); },
    get sessionDb() { return sqliteOnly(sessionDb, 'sessions.db'); },
    sql: sqlOf(ctx),
    browser: () => new Browser(server),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ctx.close();
      if (ownDatabase) await dropDatabase(ownDatabase);
      sessionDb?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `TestApp.sql` for any context: rows of its app database, whichever backend it opened. */
export function sqlOf(ctx: AppContext): TestApp['sql'] {
  return ctx.config.databaseUrl !== null
    ? postgresRows((ctx.storage as PostgresStorage).pool)
    : sqliteRows((ctx.storage as SqliteStorage).db);
}

function sqliteRows(db: Db) {
  return async <T>(query: string, ...params: unknown[]): Promise<T[]> => {
    const statement = db.prepare(query);
    if (statement.reader) return statement.all(...params) as T[];
    statement.run(...params);
    return [];
  };
}

const JSON_TYPES = new Set([114, 3802]); // json, jsonb

/** `?` placeholders as `$1`, `$2`…: a spec's SQL reads the same on both backends. */
export function numberedPlaceholders(query: string): string {
  let n = 0;
  return query.replace(/\?/g, () => `$${++n}`);
}

function postgresRows(pool: PostgresStorage['pool']) {
  return async <T>(query: string, ...params: unknown[]): Promise<T[]> => {
    const { rows, fields } = await pool.query(numberedPlaceholders(query), params);
    // SQLite keeps JSON (metadata, event details) as text: give it back as text here too.
    const json = new Set(fields.filter((field) => JSON_TYPES.has(field.dataTypeID)).map((field) => field.name));
    return rows.map((row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key,
      typeof value === 'boolean' ? Number(value) : json.has(key) && value !== null ? JSON.stringify(value) : value]))) as T[];
  };
}

/** The first CSRF token in a page, or undefined. */
export function csrfTokenIn(html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
}

/** A cookie-keeping client with a browser's User-Agent. */
export class Browser {
  readonly agent: ReturnType<typeof request.agent>;
  userAgent = BROWSER_UA;

  constructor(server: Server) {
    this.agent = request.agent(server);
  }

  get(url: string) {
    return this.agent.get(url).set('User-Agent', this.userAgent);
  }

  /** POSTs `fields` as a urlencoded form, with no CSRF token added. */
  post(url: string, fields: Record<string, string> = {}) {
    return this.agent.post(url).set('User-Agent', this.userAgent).type('form').send(fields);
  }

  /** Loads `url` and submits its form the way a browser would: with the page's CSRF token. */
  async submit(url: string, fields: Record<string, string> = {}, from = url) {
    const page = await this.get(from);
    const token = csrfTokenIn(page.text);
    if (!token) throw new Error(`no CSRF token on ${from} (status ${page.status})`);
    return this.post(url, { _csrf: token, ...fields });
  }

  /** The value of a cookie this browser holds, if any. */
  cookie(name: string): string | undefined {
    const jar = (this.agent as unknown as { jar: { getCookie(name: string, access: object): { value: string } | undefined } }).jar;
    return jar.getCookie(name, { domain: '127.0.0.1', path: '/', secure: false, script: false })?.value;
  }
}

/** A guest with a cart: visits a product, adds it, and checks out as a guest (seed 003's flow). */
export async function guestWithCart(browser: Browser, products: Array<[string, number]> = [['ember-mug', 2]]) {
  for (const [id, quantity] of products) {
    await browser.submit(`/products/${id}`, { productId: id, quantity: String(quantity) });
  }
  const response = await browser.submit('/checkout', { action: 'guest-checkout' });
  if (response.status !== 303) throw new Error(`guest checkout answered ${response.status}`);
  return response;
}

export interface RawResponse { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One HTTP request exactly as given: the path is sent unnormalised, the body byte for byte. */
export function raw(app: TestApp, options: {
  method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer;
}): Promise<RawResponse> {
  const { hostname, port } = new URL(app.url);
  const headers: Record<string, string> = { 'user-agent': BROWSER_UA, ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, path: options.path, method: options.method ?? 'GET', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
