/**
 * The two servers a bench run compares: guestkit in production mode, and the floor (see
 * floor-server.ts). Both run as `node --import tsx <file>` so the child's pid is the server
 * itself (its RSS is the server's) and a SIGTERM reaches it directly.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, makeTempDir, startChild, stopChild, waitForLine, type Child } from './processes.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_TIMEOUT_MS = 60_000;

export interface RunningServer {
  name: string;
  url: string;
  child: Child;
  dataDir: string;
  /** The PostgreSQL database it keeps its data in; none on SQLite (its data dir holds it). */
  databaseUrl?: string;
  stop(): Promise<void>;
}

export interface GuestkitOptions {
  dataDir: string;
  secret: string;
  bcryptCost: number;
  /** Write a V8 CPU profile here when the server exits. */
  profileDir?: string;
  /** Variables on top of the bench's environment: DATABASE_URL on Postgres, a limit a scenario needs on. */
  env?: Record<string, string>;
}

/** A 64-character random secret, as `openssl rand -hex 32` gives. */
export function newSecret(): string {
  return crypto.randomBytes(32).toString('hex');
}

/** Only what node and tsx need from our environment: no stray config variable leaks into a run. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return Object.fromEntries(keep.flatMap((key) => (process.env[key] ? [[key, process.env[key]!]] : [])));
}

/** The environment guestkit runs with in a bench: production, limits off, bound to loopback. */
export function guestkitEnv(options: Omit<GuestkitOptions, 'profileDir'>): Record<string, string> {
  return {
    ...baseEnv(),
    NODE_ENV: 'production',
    SESSION_SECRET: options.secret,
    TRUST_PROXY: 'loopback',
    DATA_DIR: options.dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    GUEST_RATE_LIMIT: '0',
    LOGIN_RATE_LIMIT: '0',
    MAIL_RATE_LIMIT: '0',
    BCRYPT_COST: String(options.bcryptCost),
    // Required in production. No scenario sends mail, so nothing listens there.
    APP_URL: 'https://shop.example',
    SMTP_URL: 'smtp://127.0.0.1:2525',
    MAIL_FROM: 'Shop <shop@example.com>',
    ...options.env,
  };
}

export function startGuestkit(options: GuestkitOptions): Promise<RunningServer> {
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  return start('guestkit', [...profile, '--import', 'tsx', 'src/server.ts'], options.dataDir, guestkitEnv(options));
}

/** The floor, on the store `env` names (DATABASE_URL), else on SQLite in a temp dir of its own. */
export function startFloor(env: Record<string, string> = {}): Promise<RunningServer> {
  const dataDir = makeTempDir('floor');
  return start('floor', ['--import', 'tsx', 'scripts/bench/floor-server.ts'], dataDir, {
    ...baseEnv(),
    NODE_ENV: 'production',
    SESSION_SECRET: newSecret(),
    DATA_DIR: dataDir,
    PORT: '0',
    ...env,
  });
}

async function start(name: string, args: string[], dataDir: string, env: Record<string, string>): Promise<RunningServer> {
  const child = startChild(process.execPath, args, { cwd: ROOT, env });
  try {
    const match = await waitForLine(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/, READY_TIMEOUT_MS);
    let stopping = false;
    // A server that dies mid-run makes every later figure a connection error: say why, once. (A
    // graceful stop exits 0, also when Ctrl-C reached the server before the bench stopped it.)
    void child.exited.then((code) => {
      if (!stopping && code !== 0) log(`${name} exited with ${code} while the bench ran:\n${child.output()}`);
    });
    return {
      name, url: match[1]!, child, dataDir, databaseUrl: env.DATABASE_URL,
      stop: () => {
        stopping = true;
        return stopChild(child);
      },
    };
  } catch (error) {
    await stopChild(child, 1_000);
    throw new Error(`${name} did not start: ${(error as Error).message}`);
  }
}
