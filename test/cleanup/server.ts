/**
 * The real server (src/server.ts) as a child process on a data dir, as it runs next to
 * `npm run cleanup` in production, with a cookie-keeping browser for it. (In one process, the
 * store's node-sqlite3 and cleanup's better-sqlite3 must not share sessions.db: their POSIX
 * locks do not see each other.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import request from 'supertest';
import { BROWSER_UA, csrfTokenIn } from '../support.ts';

export interface ServerChild {
  url: string;
  /** Everything the server printed so far. */
  output(): string;
  /** Resolves when the server printed a line matching `pattern` (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  browser(): ServerBrowser;
  stop(): Promise<void>;
}

export async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<ServerChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, NODE_ENV: 'test', DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0',
      BCRYPT_COST: '10', GUEST_RATE_LIMIT: '0', LOGIN_RATE_LIMIT: '0', MAIL_RATE_LIMIT: '0', ...env,
    },
  });
  let printed = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    printed += chunk;
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitFor = (pattern: RegExp, timeoutMs = 20_000) => new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(printed);
      if (!match) return;
      listeners.delete(check);
      clearTimeout(timer);
      resolve(match);
    };
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`the server did not print ${pattern} within ${timeoutMs} ms:\n${printed}`));
    }, timeoutMs);
    listeners.add(check);
    check();
  });

  const [, url] = await waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return {
    url: url!,
    output: () => printed,
    waitFor,
    browser: () => new ServerBrowser(url!),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A browser (its User-Agent, its cookies) that submits forms with the page's CSRF token. */
export class ServerBrowser {
  private readonly agent: ReturnType<typeof request.agent>;

  constructor(url: string) {
    this.agent = request.agent(url);
  }

  get(path: string) {
    return this.agent.get(path).set('User-Agent', BROWSER_UA);
  }

  async submit(path: string, fields: Record<string, string>) {
    const token = csrfTokenIn((await this.get(path)).text);
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return this.agent.post(path).set('User-Agent', BROWSER_UA).type('form').send({ _csrf: token, ...fields });
  }
}
