/**
 * Several app processes on one PostgreSQL, as an operator runs them behind a load balancer: each
 * `src/server.ts` in a child process with a DATA_DIR of its own (as if on its own machine), and
 * the same DATABASE_URL, SESSION_SECRET and TRUST_PROXY.
 */
import fs from 'node:fs';
import { type ServerProcess, startServer, stopServer, tempDataDir } from './server-process.ts';

/** Every process signs cookies with this: a session or token made by one is good on the others. */
export const SHARED_SECRET = 'multi-process-spec-secret-4f9c2a7e1b8d6053';

export interface AppProcesses {
  servers: ServerProcess[];
  urls: string[];
  /** Kills the processes still running and removes their data dirs. */
  close(): Promise<void>;
}

/**
 * Starts `count` processes on `databaseUrl` at once (they migrate the empty database at the same
 * moment, which the migrations' advisory lock makes safe), with `env` on top of the test defaults.
 */
export async function startAppProcesses(databaseUrl: string, count: number, env: Record<string, string> = {}): Promise<AppProcesses> {
  const dataDirs = Array.from({ length: count }, () => tempDataDir());
  const starting = dataDirs.map((dataDir) => startServer(dataDir, {
    DATABASE_URL: databaseUrl, SESSION_SECRET: SHARED_SECRET, TRUST_PROXY: 'loopback', ...env,
  }));
  const close = async () => {
    const started = await Promise.allSettled(starting);
    for (const result of started) if (result.status === 'fulfilled') await stopServer(result.value);
    for (const dataDir of dataDirs) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const servers = await Promise.all(starting);
    return { servers, urls: servers.map((server) => server.url), close };
  } catch (error) {
    await close();
    throw error;
  }
}
