/**
 * `npm run bench`: guestkit in production mode next to its floor (bare Express + sessions +
 * one database write), in the same run, every figure with the floor's and their ratio. Both on
 * SQLite, or with `--backend postgres` both on one throwaway PostgreSQL cluster.
 *
 *   npm run bench [-- --quick] [--json] [--profile] [--backend postgres] [--only guest-creation,memory]
 *
 * Progress goes to stderr; stdout gets the table, or with --json one JSON object. Exits 0 when
 * targets are missed (the table says so), 1 when a scenario crashed, 2 on bad arguments.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BACKENDS, isBackendName, openBackend, type BackendName, type BenchBackend } from './bench/backend.ts';
import { formatSummary, summariseProfile } from './bench/profile-summary.ts';
import { cleanUp, log, makeTempDir } from './bench/processes.ts';
import { describeMachine, toJson, toTable, withoutFigure, type Row } from './bench/report.ts';
import type { BenchRun } from './bench/run.ts';
import { cleanup } from './bench/scenarios/cleanup.ts';
import { guestCreation } from './bench/scenarios/guest-creation.ts';
import { loginBurst } from './bench/scenarios/login-burst.ts';
import { memory } from './bench/scenarios/memory.ts';
import { GUEST_RATE_LIMIT, pageViews } from './bench/scenarios/page-views.ts';
import { signedInRender } from './bench/scenarios/signed-in-render.ts';
import { newSecret, ROOT, startFloor, startGuestkit, type GuestkitOptions } from './bench/servers.ts';
import { closeVisitors } from './bench/visitor.ts';

/** What a scenario may start besides the run's two servers. */
interface Setup { options: GuestkitOptions; floorEnv: Record<string, string>; backend: BenchBackend }

const SCENARIOS: Record<string, (run: BenchRun, setup: Setup) => Promise<Row[]>> = {
  'guest-creation': guestCreation,
  'signed-in-render': signedInRender,
  'login-burst-p99': loginBurst,
  // On guestkit's and the floor's databases (Postgres): resident memory is the process's own.
  memory: (run, { options, floorEnv }) => memory(run, {
    app: () => startGuestkit({ ...options, dataDir: makeTempDir('memory'), profileDir: undefined }),
    floor: () => startFloor(floorEnv),
  }),
  // A fresh store: the session rows left are counted after the views.
  'page-views': async (run, { options, backend }) => pageViews(run, async () => startGuestkit({
    ...options, dataDir: makeTempDir('page-views'), profileDir: undefined,
    env: { ...await backend.newStore('page_views'), GUEST_RATE_LIMIT: String(GUEST_RATE_LIMIT) },
  })),
  cleanup: (run, { options }) => cleanup(run, options),
};
const PROFILED = ['guest-creation', 'signed-in-render'];

const USAGE = `usage: npm run bench -- [--quick] [--json] [--profile] [--backend ${BACKENDS.join('|')}] [--only <scenario,...>]
  --quick    short phases and 100,000 guests for cleanup (under 2 minutes)
  --json     print one JSON object on stdout instead of the table
  --profile  run ${PROFILED.join(' and ')} with guestkit under --cpu-prof and summarise the profile
  --backend  where guestkit and the floor keep their data: sqlite (the default: files in temp dirs)
             or postgres (one throwaway PostgreSQL cluster, fsync on, a database for each; needs
             Debian's postgresql package); on postgres guest-creation also runs two guestkit processes
  --only     run only these scenarios: ${Object.keys(SCENARIOS).join(', ')}
BCRYPT_COST in the environment sets guestkit's bcrypt cost (default 12, the production default).`;

interface Args { quick: boolean; json: boolean; profile: boolean; backend: BackendName; only: string[] }

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: false, profile: false, backend: 'sqlite', only: Object.keys(SCENARIOS) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--profile') args.profile = true;
    else if (arg === '--backend' && argv[i + 1]) args.backend = backendArg(argv[++i]!);
    else if (arg === '--only' && argv[i + 1]) args.only = argv[++i]!.split(',').map((name) => name.trim());
    else usage(arg === '--help' || arg === '-h' ? 0 : 2, arg === '--help' || arg === '-h' ? undefined : `unknown argument: ${arg}`);
  }
  const unknown = args.only.filter((name) => !(name in SCENARIOS));
  if (unknown.length) usage(2, `unknown scenario: ${unknown.join(', ')}`);
  if (args.profile) args.only = args.only.filter((name) => PROFILED.includes(name));
  if (args.only.length === 0) usage(2, `--profile covers only ${PROFILED.join(' and ')}`);
  return args;
}

function backendArg(value: string): BackendName {
  if (isBackendName(value)) return value;
  return usage(2, `unknown backend: ${value} (${BACKENDS.join(' or ')})`);
}

function usage(code: number, problem?: string): never {
  if (problem) console.error(problem);
  (code === 0 ? console.log : console.error)(USAGE);
  process.exit(code);
}

async function main(args: Args): Promise<number> {
  const machine = describeMachine();
  const mode = args.quick ? 'quick' : 'full';
  const bcryptCost = Number(process.env.BCRYPT_COST || 12);
  // Kept after the run: the profile is what --profile is for.
  const profileDir = args.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'guestkit-profile-')) : undefined;
  log(`${mode} run of ${args.only.join(', ')} on ${machine.cpus} × ${machine.model}`);
  const backend = await openBackend(args.backend);
  const [appStore, floorEnv] = await Promise.all([backend.newStore('guestkit'), backend.newStore('floor')]);
  const options: GuestkitOptions = { dataDir: makeTempDir('app'), secret: newSecret(), bcryptCost, profileDir, env: appStore };
  const [floor, guestkit] = await Promise.all([startFloor(floorEnv), startGuestkit(options)]);
  const run: BenchRun = {
    quick: args.quick,
    backend: backend.name,
    seconds: args.quick ? 3 : 12,
    warmupSeconds: args.quick ? 0.5 : 2,
    connections: 10,
    bcryptCost,
    secret: options.secret,
    guestkit,
    floor,
    async restartGuestkit() {
      run.guestkit = await startGuestkit(options);
      return run.guestkit;
    },
    // Several processes share a database only on Postgres (on SQLite each keeps limits in memory).
    startPeer: backend.name === 'postgres'
      ? () => startGuestkit({ ...options, dataDir: makeTempDir('peer'), profileDir: undefined })
      : undefined,
    databaseCpuMs: backend.cpuMs,
  };

  const rows: Row[] = [];
  let crashed = false;
  for (const name of args.only) {
    const started = performance.now();
    log(name);
    try {
      rows.push(...await SCENARIOS[name]!(run, { options, floorEnv, backend }));
    } catch (error) {
      crashed = true;
      log(`${name} crashed: ${(error as Error).stack ?? error}`);
      rows.push(withoutFigure(name, 'crashed', (error as Error).message.split('\n')[0]!));
    }
    log(`${name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  await Promise.all([run.guestkit.stop(), run.floor.stop()]);
  await backend.stop();

  const out = args.json ? toJson(machine, backend, rows) : toTable(machine, backend, rows, mode);
  console.log(out);
  if (profileDir) {
    const report = profileReport(profileDir);
    (args.json ? console.error : console.log)(`\n${report}`);
  }
  return crashed ? 1 : 0;
}

/** The main thread's profile (thread id 0; tsx's loader and the bcrypt worker write their own). */
function profileReport(dir: string): string {
  const main = fs.readdirSync(dir).find((file) => /\.\d+\.0\.\d+\.cpuprofile$/.test(file));
  if (!main) return `No CPU profile of the main thread was written to ${dir}`;
  const file = path.join(dir, main);
  return `CPU profile of guestkit's main thread (${PROFILED.join(', ')}): ${file}\n${formatSummary(summariseProfile(file, ROOT), 25)}`;
}

async function finish(code: number): Promise<never> {
  closeVisitors();
  await cleanUp();
  process.exit(code);
}

const args = parseArgs(process.argv.slice(2));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers and removing temp dirs`);
    void finish(130);
  });
}
main(args).then(finish, (error: Error) => {
  log(`crashed: ${error.stack ?? error}`);
  void finish(1);
});
