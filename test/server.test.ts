/**
 * `npm start` as an operator runs it: the real server process (tsx src/server.ts) on a free port
 * with a data dir that does not exist yet; it serves the shop, stops cleanly on SIGTERM, and
 * refuses to start with a bad variable, naming it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BROWSER_UA, PRODUCTION_MAIL, tempDataDir } from './support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

interface Run { child: ChildProcess; output(): string; exited: Promise<number | null> }

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => { for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL'); });
afterAll(() => { for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true }); });

/** A port nothing listens on right now: bind port 0, read it, release it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function startServer(env: Record<string, string>): Run {
  const child = spawn(TSX, ['src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', HOST: '127.0.0.1', BCRYPT_COST: '10', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(run: Run, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!run.output().includes(text)) {
    if (run.child.exitCode !== null) throw new Error(`server exited (${run.child.exitCode}) before "${text}":\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the server process', () => {
  it('creates its data dir, serves the shop at /, and stops cleanly on SIGTERM', async () => {
    const parent = tempDataDir();
    dirs.push(parent);
    const dataDir = path.join(parent, 'fresh', 'data');
    const port = await freePort();
    const run = startServer({ PORT: String(port), DATA_DIR: dataDir });
    await waitFor(run, 'listening');
    expect(run.output()).toContain(`http://127.0.0.1:${port}`);

    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'user-agent': BROWSER_UA } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('<title>Products · guestkit shop</title>');
    expect(fs.readdirSync(dataDir)).toEqual(expect.arrayContaining(['app.db', 'sessions.db', 'session-secret']));

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('Stopped cleanly');
  });

  it('on SIGTERM, finishes a request still arriving before it exits', async () => {
    const parent = tempDataDir();
    dirs.push(parent);
    const port = await freePort();
    const run = startServer({ PORT: String(port), DATA_DIR: path.join(parent, 'data') });
    await waitFor(run, 'listening');

    // A form post whose body is still on its way when the signal comes.
    const body = 'email=slow%40example.com&password=typed-slowly';
    const request = http.request({ host: '127.0.0.1', port, path: '/login', method: 'POST', headers: {
      'user-agent': BROWSER_UA, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length),
    } });
    const answered = new Promise<number>((resolve, reject) => {
      request.on('response', (response) => { response.resume(); response.on('end', () => resolve(response.statusCode!)); });
      request.on('error', reject);
    });
    request.write(body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.child.kill('SIGTERM');
    await waitFor(run, 'finishing in-flight requests');
    expect(run.child.exitCode).toBeNull();
    request.end(body.slice(10));

    // No token: the form-expired page, but an answer, not a dropped connection.
    expect(await answered).toBe(403);
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('Stopped cleanly');
  });

  it('exits 1 with a message naming PORT when PORT=abc, without starting', async () => {
    const parent = tempDataDir();
    dirs.push(parent);
    const run = startServer({ PORT: 'abc', DATA_DIR: path.join(parent, 'data') });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/Invalid configuration: PORT .*"abc"/);
    expect(run.output()).not.toContain('listening');
    expect(fs.existsSync(path.join(parent, 'data'))).toBe(false);
  });

  it('exits 1 naming SESSION_SECRET when production has none', async () => {
    const parent = tempDataDir();
    dirs.push(parent);
    const run = startServer({ NODE_ENV: 'production', PORT: String(await freePort()), DATA_DIR: path.join(parent, 'data'), ...PRODUCTION_MAIL });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('SESSION_SECRET');
  });
});
