/**
 * A throwaway PostgreSQL for tests (scripts/support/postgres-cluster.ts): Debian's own server
 * binaries, a cluster in a temp dir on a free loopback port, one per test file, removed
 * afterwards, fsync off. No binaries: the tests fail and say how to install them.
 */
import { startPostgresCluster } from '../../../scripts/support/postgres-cluster.ts';

export interface PostgresServer {
  /** A new, empty database on this server; resolves to its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const cluster = await startPostgresCluster({ purpose: 'test', durable: false });
  let databases = 0;
  return {
    createDatabase: () => cluster.createDatabase(`test_${process.pid}_${++databases}`),
    stop: () => cluster.stop(),
  };
}
