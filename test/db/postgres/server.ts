/**
 * A throwaway PostgreSQL for tests (scripts/support/postgres-cluster.ts): Debian's own server
 * binaries, a cluster in a temp dir on a free loopback port, removed afterwards, fsync off. The
 * contract tests start one per file; the postgres project shares one per run (test/postgres-cluster.ts).
 * No binaries: the tests fail and say how to install them.
 */
import pg from 'pg';
import { startPostgresCluster } from '../../../scripts/support/postgres-cluster.ts';

export { freePort } from '../../../scripts/support/postgres-cluster.ts';

export interface PostgresServer {
  /** `postgres://guestkit@127.0.0.1:<port>`: the server, to create databases on (createDatabaseOn). */
  adminUrl: string;
  /** A new, empty database on this server; resolves to its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server, keeping its data: every connection is cut until `resume()` (an outage). */
  pause(): Promise<void>;
  /** Starts the paused server again, on the same port: the URLs handed out work again. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** The server's `max_connections`. @default 100, PostgreSQL's own */
  maxConnections?: number;
}

let databases = 0;

/** A new, empty database on the server at `adminUrl`, named for this process; resolves to its URL. */
export async function createDatabaseOn(adminUrl: string): Promise<string> {
  const name = `test_${process.pid}_${++databases}`;
  await asAdmin(adminUrl, `CREATE DATABASE ${name}`);
  return `${adminUrl}/${name}`;
}

/** Drops the database at `databaseUrl` (made by createDatabaseOn), closing whatever still uses it. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const at = databaseUrl.lastIndexOf('/');
  const name = databaseUrl.slice(at + 1);
  if (!/^test_\d+_\d+$/.test(name)) throw new Error(`not a test database: ${name}`);
  await asAdmin(databaseUrl.slice(0, at), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

async function asAdmin(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${adminUrl}/postgres` });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const cluster = await startPostgresCluster({ purpose: 'test', durable: false, maxConnections: options.maxConnections });
  return {
    adminUrl: cluster.adminUrl,
    createDatabase: () => createDatabaseOn(cluster.adminUrl),
    pause: () => cluster.pause(),
    resume: () => cluster.resume(),
    stop: () => cluster.stop(),
  };
}
