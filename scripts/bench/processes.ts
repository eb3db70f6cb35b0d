/**
 * Child processes and temp dirs the bench owns, and the one place that tears them down: on a
 * normal finish, on a crash, and on Ctrl-C. Every wait here has a deadline.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const children = new Set<Child>();
const tempDirs = new Set<string>();
/** Children started in their own process group: signals go to the whole group. */
const groupLeaders = new WeakSet<ChildProcess>();

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `guestkit-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export interface Child {
  process: ChildProcess;
  pid: number;
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  output(): string;
  /** Everything the child wrote on stdout (up to 1 MB). */
  stdout(): string;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<number | string>;
}

/**
 * Spawns a child and keeps its output. A `group` child gets its own process group (npm runs
 * a shell that runs node): stopping it signals the whole group, never anything we did not start.
 */
export function startChild(command: string, args: string[], options: SpawnOptions & { group?: boolean } = {}): Child {
  const { group = false, ...spawnOptions } = options;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: group, ...spawnOptions });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  if (group) groupLeaders.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (stdout.length < 1_000_000) stdout += chunk.toString();
  });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(handle);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      lines.push(String(error));
      children.delete(handle);
      resolve('error');
    });
  });
  const handle: Child = { process: child, pid: child.pid, output: () => lines.join('\n'), stdout: () => stdout, exited };
  children.add(handle);
  return handle;
}

/** Waits for a line matching `pattern` on the child's stdout; fails on exit or after `timeoutMs`. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => finish(new Error(`no "${pattern.source}" within ${timeoutMs / 1000} s:\n${child.output()}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = pattern.exec(buffer);
      if (match) finish(undefined, match);
    };
    const onExit = () => finish(new Error(`exited before it was ready:\n${child.output()}`));
    function finish(error?: Error, match?: RegExpExecArray) {
      clearTimeout(timer);
      child.process.stdout?.off('data', onData);
      child.process.off('exit', onExit);
      if (error) reject(error);
      else resolve(match!);
    }
    child.process.stdout?.on('data', onData);
    child.process.once('exit', onExit);
  });
}

/** SIGTERM (a graceful stop, which also writes a CPU profile), then SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  signal(child.process, 'SIGTERM');
  const timer = setTimeout(() => signal(child.process, 'SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    if (groupLeaders.has(child)) process.kill(-child.pid!, name);
    else child.kill(name);
  } catch {
    // already gone
  }
}

/** Resident memory of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

/** CPU time a process has used so far (all its threads, user + system), in ms, from /proc (Linux). */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU time of a process and its children, in ms: those running now, and those it has reaped
 * (a server whose workers come and go, as PostgreSQL's backends do). Grandchildren count once
 * their parent has reaped them.
 */
export function familyCpuMs(pid: number): number {
  const total = (fields: string[], withReaped: boolean) =>
    (Number(fields[11]) + Number(fields[12]) + (withReaped ? Number(fields[13]) + Number(fields[14]) : 0)) * 10;
  let sum = total(statFields(pid), true);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fields: string[];
    try {
      fields = statFields(Number(entry));
    } catch {
      continue; // exited meanwhile
    }
    if (Number(fields[1]) === pid) sum += total(fields, true);
  }
  return sum;
}

/** /proc/<pid>/stat after "pid (comm) ": state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14]; clock ticks are 10 ms. */
function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Stops every child we started and removes our temp dirs. */
export async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child, 3_000)));
  removeTempDirs();
}

function removeTempDirs(): void {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Last resort when the process exits without `cleanUp()` (an uncaught error): no waiting allowed. */
process.on('exit', () => {
  for (const child of children) signal(child.process, 'SIGKILL');
  removeTempDirs();
});

/** Waits for the child to exit; past `timeoutMs` it is stopped and this throws. */
export async function waitForExit(child: Child, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const result = await Promise.race([child.exited, deadline]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await stopChild(child, 3_000);
    throw new Error(`did not finish within ${Math.round(timeoutMs / 1000)} s:\n${child.output()}`);
  }
  return result;
}
