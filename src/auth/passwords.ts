import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AuthError } from './errors.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  close(): Promise<void>;
}

const MIN_CODE_POINTS = 8;
// bcrypt reads only the first 72 bytes: longer passwords would collide silently, so refuse them.
const MAX_BYTES = 72;

/** Throws `password_too_short` or `password_too_long`; length counts code points, the cap bytes. */
export function checkPassword(password: string): void {
  if ([...password].length < MIN_CODE_POINTS) throw new AuthError('password_too_short');
  if (Buffer.byteLength(password, 'utf8') > MAX_BYTES) throw new AuthError('password_too_long');
}

// The worker is plain JavaScript evaluated from a string so it runs the same under tsx, vitest
// and node, with no TypeScript loader in the worker.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
parentPort.on('message', ({ id, op, password, hash, cost }) => {
  try {
    const result = op === 'hash' ? bcrypt.hashSync(password, cost) : bcrypt.compareSync(password, hash);
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});`;

interface Job { resolve(value: string | boolean): void; reject(error: Error): void }

/**
 * bcrypt on worker threads. bcryptjs is pure JavaScript: on the main thread even its async API
 * blocks the event loop for up to 100 ms at a time, so a burst of logins would stall every page.
 * One worker per spare core keeps a core free for requests.
 */
export function createPasswordHasher(options: { cost: number; threads?: number }): PasswordHasher {
  const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
  const threads = options.threads ?? 1;
  const jobs = new Map<number, Job>();
  let nextId = 0;
  let turn = 0;
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath } });
    worker.unref();
    worker.on('message', ({ id, result, error }: { id: number; result?: string | boolean; error?: string }) => {
      const job = jobs.get(id);
      jobs.delete(id);
      if (error !== undefined) job?.reject(new Error(`bcrypt worker: ${error}`));
      else job?.resolve(result as string | boolean);
    });
    return worker;
  });

  function run<T extends string | boolean>(message: object): Promise<T> {
    const id = nextId++;
    const worker = workers[turn++ % workers.length]!;
    return new Promise<T>((resolve, reject) => {
      jobs.set(id, { resolve: resolve as Job['resolve'], reject });
      worker.postMessage({ id, ...message });
    });
  }

  return {
    hash: (password) => run<string>({ op: 'hash', password, cost: options.cost }),
    verify: (password, hash) => run<boolean>({ op: 'verify', password, hash }),
    async close() { await Promise.all(workers.map((worker) => worker.terminate())); },
  };
}
