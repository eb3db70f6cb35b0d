import { execFile } from 'node:child_process';

export interface ScriptResult { status: number; stdout: string; stderr: string }

/** Runs `scripts/<name>.ts` the way `npm run` does (tsx), with only the environment given (and PATH). */
export function runScript(name: 'cleanup' | 'seed-guests', args: readonly string[], env: Record<string, string>): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args],
      { env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env } },
      (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }));
  });
}
