/**
 * A throwaway PostgreSQL cluster: Debian's own server binaries (`apt-get install -y postgresql`),
 * in a temp dir on a free loopback port, removed when stopped (or when this process exits). As
 * root (CI containers), initdb and the server run as the package's `postgres` user, since initdb
 * refuses root. The tests (test/db/postgres/server.ts) and `npm run bench -- --backend postgres`
 * start theirs here; neither imports the other's harness.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const VERSIONS_DIR = '/usr/lib/postgresql';
/** The superuser initdb creates; trust authentication on loopback, so URLs carry no password. */
const USER = 'guestkit';

export interface ClusterOptions {
  /** What the cluster is for, in its error messages: "could not start a test PostgreSQL". */
  purpose: string;
  /**
   * fsync and full-page writes as in production. A benchmark keeps them on (what a commit costs
   * is part of what it measures); a test cluster turns them off, since it need not survive a
   * power cut.
   */
  durable: boolean;
  /** The server's `max_connections`. @default 100, PostgreSQL's own */
  maxConnections?: number;
}

export interface PostgresCluster {
  /** `postgres://guestkit@127.0.0.1:<port>`: the server itself, with no database. */
  adminUrl: string;
  /** `SHOW server_version`, e.g. "15.14 (Debian 15.14-0+deb12u1)". */
  version: string;
  /** The postmaster's pid: its children are the backends, one per connection (a `resume()` starts another). */
  serverPid: number;
  /** A new, empty database named `name` (lower-case letters, digits, _); resolves to its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Shuts the server down as an operator's restart does (`pg_ctl stop -m fast`: every connection
   * is cut, open transactions roll back) and keeps its data, until `resume()`: a database outage.
   */
  pause(): Promise<void>;
  /** Starts the paused server again: the same data on the same port, so the same URLs work. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

type Command = (tool: string, args: string[]) => [string, string[]];

/** The newest installed version's bin directory, or an error that says what to install. */
function binDir(): string {
  const versions = fs.existsSync(VERSIONS_DIR) ? fs.readdirSync(VERSIONS_DIR) : [];
  const found = versions.map(Number).filter((version) => version > 0).sort((a, b) => b - a)
    .map((version) => path.join(VERSIONS_DIR, String(version), 'bin'))
    .find((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')));
  if (!found) {
    throw new Error(`PostgreSQL's server binaries are not installed (no ${VERSIONS_DIR}/<version>/bin/initdb): `
      + 'apt-get install -y postgresql');
  }
  return found;
}

/** A loopback port nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs one statement on its own connection to `databaseUrl` and returns the rows (setup and checks, not load). */
export async function queryDatabase<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export async function startPostgresCluster(options: ClusterOptions): Promise<PostgresCluster> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  // initdb and postgres refuse to run as root: as root, run them as the package's user.
  const command: Command = (tool, args) =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guestkit-pg-'));
  if (asRoot) await run('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const stopNow = () => {
    try { execFileSync(...command('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']), { stdio: 'ignore' }); } catch { /* not running */ }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // A run that dies before it stops the cluster still takes the cluster with it: on a normal exit
  // at once, and, since a test worker is often killed rather than left to exit (vitest's forks),
  // by a watchdog that outlives this process and stops the cluster once it is gone.
  process.once('exit', stopNow);
  watchOwner(command, data, dir);

  try {
    // --no-sync: initdb's own files are not what anything measures, durable or not.
    await run(...command('initdb', ['-D', data, '-A', 'trust', '-U', USER, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']));
    const port = await startOnFreePort(command, { data, dir, log, durable: options.durable, maxConnections: options.maxConnections });
    const admin = `postgres://${USER}@127.0.0.1:${port}`;
    const version = (await queryDatabase<{ server_version: string }>(`${admin}/postgres`, 'SHOW server_version'))[0]!.server_version;
    // postmaster.pid's first line is the server's pid.
    const serverPid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let running = true;
    const shutDown = () => run(...command('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']));
    return {
      adminUrl: admin,
      version,
      serverPid,
      async createDatabase(name) {
        // An identifier cannot be a query parameter: only names that need no quoting get here.
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
        await queryDatabase(`${admin}/postgres`, `CREATE DATABASE ${name}`);
        return `${admin}/${name}`;
      },
      async pause() {
        await shutDown();
        running = false;
      },
      async resume() {
        // The same port, or the URLs handed out stop working. Another process may have taken it
        // while the server was down (unlikely on loopback within seconds): the log then says so.
        try {
          await startOn(command, { data, dir, log, durable: options.durable, maxConnections: options.maxConnections }, port);
        } catch (error) {
          throw new Error(`could not restart the ${options.purpose} PostgreSQL on port ${port}: ${(error as Error).message}\n${fs.readFileSync(log, 'utf8')}`);
        }
        running = true;
      },
      async stop() {
        process.off('exit', stopNow);
        if (running) await shutDown();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const serverLog = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    process.off('exit', stopNow);
    stopNow();
    throw new Error(`could not start a ${options.purpose} PostgreSQL: ${(error as Error).message}\n${serverLog}`);
  }
}

/**
 * A detached shell that waits for this process to end, then stops the cluster (if it still runs)
 * and removes its directory. After a clean `stop()` it finds nothing left and just exits.
 */
function watchOwner(command: Command, data: string, dir: string): void {
  const [program, args] = command('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
  const quoted = [program, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; `
    + `if [ -d '${data}' ]; then ${quoted} >/dev/null 2>&1; rm -rf '${dir}'; fi`;
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}

/** Where a cluster lives, and whether it syncs to disk. */
interface ClusterFiles { data: string; dir: string; log: string; durable: boolean; maxConnections?: number }

/** Starts the cluster on `port`, and waits until it accepts connections. */
async function startOn(command: Command, files: ClusterFiles, port: number): Promise<void> {
  const settings = (files.durable ? '' : ' -c fsync=off -c full_page_writes=off')
    + (files.maxConnections ? ` -c max_connections=${files.maxConnections}` : '');
  const options = `-p ${port} -k ${files.dir} -c listen_addresses=127.0.0.1${settings}`;
  await run(...command('pg_ctl', ['-D', files.data, '-l', files.log, '-w', '-t', '60', '-o', options, 'start']));
}

/** Another process may take the port between the probe and the start: then try another one. */
async function startOnFreePort(command: Command, files: ClusterFiles): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await startOn(command, files, port);
      return port;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}
