/**
 * The real server as a child process (`node --import tsx src/server.ts`) on a temporary data dir
 * and an ephemeral port on 127.0.0.1, and a fetch-based client that keeps its own cookies. Used
 * by the tests that kill, stop or crowd the server, which an in-process app cannot show.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_UA } from '../support.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'guestkit-reliability-'));
}

/** The environment of the server and of helper processes: test defaults, limits off. */
export function serverEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1',
    BCRYPT_COST: '10', GUEST_RATE_LIMIT: '0', LOGIN_RATE_LIMIT: '0', MAIL_RATE_LIMIT: '0', ...extra,
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A server process that has not necessarily started listening: for a test of how it fails to start. */
export type SpawnedServer = Omit<ServerProcess, 'url'>;

/** Spawns the server, collecting what it prints. */
export function spawnServer(dataDir: string, extra: Record<string, string> = {}): SpawnedServer {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT, env: serverEnv(dataDir, extra), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/** Starts the server and resolves once it says where it listens (or rejects with its output). */
export function startServer(dataDir: string, extra: Record<string, string> = {}): Promise<ServerProcess> {
  const server = spawnServer(dataDir, extra);
  const { child, output, exited } = server;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within 20 s:\n${output()}`));
    }, 20_000);
    const onData = () => {
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output());
      if (listening) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve({ ...server, url: listening[1]! });
      }
    };
    // Registered after spawnServer's own listeners, so output() already holds the chunk.
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${output()}`));
    });
  });
}

/** Kills a server still running at the end of a test (after a failure), and waits for it. */
export async function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
}

export interface Reply { status: number; location: string | null; headers: Headers; text: string }

export interface ClientOptions {
  /** Sent as `X-Forwarded-For`: the address a server with `TRUST_PROXY` counts this browser's limits by. */
  forwardedFor?: string;
}

/** A browser: its own cookies, a browser User-Agent, forms submitted with the page's CSRF token. */
export class Client {
  constructor(
    private readonly baseUrl: string,
    private readonly options: ClientOptions = {},
    private readonly cookies = new Map<string, string>(),
  ) {}

  /**
   * The same browser (the same cookies) talking to the server at `baseUrl`, as a browser behind a
   * load balancer reaches one app process, then another, on one origin.
   */
  via(baseUrl: string): Client {
    return new Client(baseUrl, this.options, this.cookies);
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async request(pathname: string, form?: Record<string, string>): Promise<Reply> {
    const response = await fetch(this.baseUrl + pathname, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        'user-agent': BROWSER_UA,
        ...(this.options.forwardedFor ? { 'x-forwarded-for': this.options.forwardedFor } : {}),
        cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const eq = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, eq), pair!.slice(eq + 1)];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, location: response.headers.get('location'), headers: response.headers, text: await response.text() };
  }

  /** GETs `page` and POSTs `fields` to `target` with the page's CSRF token. */
  async submit(page: string, fields: Record<string, string>, target = page): Promise<Reply> {
    const token = /name="_csrf" value="([^"]+)"/.exec((await this.request(page)).text)?.[1];
    if (!token) throw new Error(`no CSRF token on ${page}`);
    return this.request(target, { _csrf: token, ...fields });
  }
}

/** The id of the guest a client is signed in as, read from its resume cookie (`<collection>.<id>.<secret>`). */
export function guestIdOf(client: Client): string {
  const cookie = client.cookie('gk.resume');
  if (!cookie) throw new Error('this client is not a guest');
  return decodeURIComponent(cookie).split('.')[1]!;
}
