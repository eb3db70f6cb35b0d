/**
 * A throwaway PostgreSQL for tests: Debian's own server binaries (`apt-get install -y
 * postgresql`), a cluster in a temp dir on a free loopback port, one per test file, removed
 * afterwards. As root (CI containers), initdb and the server run as the package's `postgres`
 * user, since initdb refuses root. No binaries: the tests fail and say how to install them.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const VERSIONS_DIR = '/usr/lib/postgresql';

export interface PostgresServer {
  /** A new, empty database on this server; resolves to its URL. */
  createDatabase(): Promise<string>;
  /**
   * Shuts the server down as an operator's restart does (`pg_ctl stop -m fast`: every connection
   * is cut, open transactions roll back) and keeps its data, until `resume()`: a database outage.
   */
  pause(): Promise<void>;
  /** Starts the paused server again: the same data on the same port, so the same URLs work. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

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

/** A port nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPostgres(): Promise<PostgresServer> {
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
  // A test run that dies before afterAll still takes its cluster with it.
  process.once('exit', stopNow);

  try {
    await run(...command('initdb', ['-D', data, '-A', 'trust', '-U', 'guestkit', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']));
    const port = await startOnFreePort(command, data, dir, log);
    const admin = `postgres://guestkit@127.0.0.1:${port}`;
    let databases = 0;
    let running = true;
    const shutDown = () => run(...command('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']));
    return {
      async createDatabase() {
        const name = `test_${process.pid}_${++databases}`;
        const client = new pg.Client({ connectionString: `${admin}/postgres` });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
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
          await startOn(command, data, dir, log, port);
        } catch (error) {
          throw new Error(`could not restart the test PostgreSQL on port ${port}: ${(error as Error).message}\n${fs.readFileSync(log, 'utf8')}`);
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
    throw new Error(`could not start a test PostgreSQL: ${(error as Error).message}\n${serverLog}`);
  }
}

type Command = (tool: string, args: string[]) => [string, string[]];

/** Starts the cluster in `data` on `port`, and waits until it accepts connections. */
async function startOn(command: Command, data: string, dir: string, log: string, port: number): Promise<void> {
  // fsync off: a throwaway cluster need not survive a power cut (never for a benchmark).
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  await run(...command('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', options, 'start']));
}

/** Another process may take the port between the probe and the start: then try another one. */
async function startOnFreePort(command: Command, data: string, dir: string, log: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await startOn(command, data, dir, log, port);
      return port;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}
