/**
 * A throwaway PostgreSQL for tests (scripts/support/postgres-cluster.ts): Debian's own server
 * binaries, a cluster in a temp dir on a free loopback port, one per test file, removed
 * afterwards, fsync off. No binaries: the tests fail and say how to install them.
 */
import { startPostgresCluster } from '../../../scripts/support/postgres-cluster.ts';

export { freePort } from '../../../scripts/support/postgres-cluster.ts';

export interface PostgresServer {
  /** A new, empty database on this server; resolves to its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server, keeping its data: every connection is cut until `resume()` (an outage). */
  pause(): Promise<void>;
  /** Starts the paused server again, on the same port: the URLs handed out work again. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const cluster = await startPostgresCluster({ purpose: 'test', durable: false });
  let databases = 0;
  return {
    createDatabase: () => cluster.createDatabase(`test_${process.pid}_${++databases}`),
    pause: () => cluster.pause(),
    resume: () => cluster.resume(),
    stop: () => cluster.stop(),
  };
}
