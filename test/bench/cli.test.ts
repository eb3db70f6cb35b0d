/**
 * `npm run bench`'s command line, without running a benchmark: both cases exit while the
 * arguments are read, before any server or cluster is started.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Result { status: number; stdout: string; stderr: string }

/** Runs scripts/bench.ts the way `npm run bench --` does (tsx), with only PATH in its environment. */
function bench(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', ...args], { env: { PATH: process.env.PATH } },
      (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }));
  });
}

describe('npm run bench -- --backend', () => {
  it('is listed by --help with both backends, sqlite the default (exit 0, usage on stdout)', async () => {
    const { status, stdout } = await bench(['--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('[--backend sqlite|postgres]');
    expect(stdout).toMatch(/--backend .*sqlite \(the default/);
  });

  it('exits 2 and names the backends when given one it does not know', async () => {
    const { status, stdout, stderr } = await bench(['--backend', 'mysql', '--quick']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown backend: mysql (sqlite or postgres)');
    expect(stderr).toContain('usage: npm run bench');
  });

  it('exits 2 when --backend has no value', async () => {
    const { status, stderr } = await bench(['--backend']);
    expect(status).toBe(2);
    expect(stderr).toContain('unknown argument: --backend');
  });
});
