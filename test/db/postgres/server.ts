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

/** A port nothing listens on now, on 127.0.0.1. */
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
  const command = (tool: string, args: string[]): [string, string[]] =>
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
      async stop() {
        process.off('exit', stopNow);
        await run(...command('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']));
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

/** Another process may take the port between the probe and the start: then try another one. */
async function startOnFreePort(command: (tool: string, args: string[]) => [string, string[]], data: string, dir: string, log: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // fsync off: a throwaway cluster need not survive a power cut (never for a benchmark).
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    try {
      await run(...command('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', options, 'start']));
      return port;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}
