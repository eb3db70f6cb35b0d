/**
 * Where a bench run keeps its data (`--backend`): SQLite files in each server's data dir, or one
 * throwaway PostgreSQL cluster for the whole run, with a database per store, so guestkit and the
 * floor share the server (its CPU, its WAL, its fsyncs) but never a table.
 */
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.ts';
import { familyCpuMs, log } from './processes.ts';

export const BACKENDS = ['sqlite', 'postgres'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BenchBackend {
  name: BackendName;
  /** For the report: "SQLite", or the server's version and settings. */
  description: string;
  /**
   * The variables that give a server a store of its own: none on SQLite (a server's data dir is
   * its store), a new database's DATABASE_URL on PostgreSQL.
   */
  newStore(label: string): Promise<Record<string, string>>;
  /** CPU time the database server has used so far, in ms: PostgreSQL only (SQLite runs inside the servers). */
  cpuMs?(): number;
  stop(): Promise<void>;
}

export function isBackendName(name: string): name is BackendName {
  return (BACKENDS as readonly string[]).includes(name);
}

export async function openBackend(name: BackendName): Promise<BenchBackend> {
  if (name === 'sqlite') return { name, description: 'SQLite', newStore: async () => ({}), stop: async () => {} };
  log('starting a throwaway PostgreSQL cluster (fsync on)');
  return postgresBackend(await startPostgresCluster({ purpose: 'bench', durable: true }));
}

function postgresBackend(cluster: PostgresCluster): BenchBackend {
  const made = new Map<string, number>();
  return {
    name: 'postgres',
    // The server's defaults otherwise (shared_buffers 128 MB, synchronous_commit on), and the
    // app's own pool size: the bench measures what an operator gets without tuning.
    description: `PostgreSQL ${cluster.version.split(' ')[0]} (fsync on, defaults; DATABASE_POOL_SIZE default)`,
    async newStore(label) {
      const n = (made.get(label) ?? 0) + 1;
      made.set(label, n);
      return { DATABASE_URL: await cluster.createDatabase(n === 1 ? label : `${label}_${n}`) };
    },
    cpuMs: () => familyCpuMs(cluster.serverPid),
    stop: () => cluster.stop(),
  };
}
