/** What every scenario gets: the run's settings and the two servers it compares. */
import type { BackendName } from './backend.ts';
import { count, failureRate, percentile, perSecond, pool, runLoad, type LoadOptions, type LoadResult } from './load.ts';
import { cpuMs, log } from './processes.ts';
import { row, type Row } from './report.ts';
import type { RunningServer } from './servers.ts';

export interface BenchRun {
  quick: boolean;
  /** Where guestkit and the floor keep their data (`--backend`). */
  backend: BackendName;
  /** Length of one measured load phase, per server. */
  seconds: number;
  /** Warm-up before a measured phase (JIT, template compilation, SQLite caches). */
  warmupSeconds: number;
  /** Connections for the throughput scenarios. */
  connections: number;
  bcryptCost: number;
  secret: string;
  guestkit: RunningServer;
  floor: RunningServer;
  /** Replaces the guestkit server (cleanup restarts it on the same data dir). */
  restartGuestkit(): Promise<RunningServer>;
  /**
   * Starts another guestkit process on guestkit's database, as a second machine behind a load
   * balancer would be: its own data dir, the same secret. Only where processes can share a
   * store (PostgreSQL); the caller stops it.
   */
  startPeer?(): Promise<RunningServer>;
  /** CPU time the database server has used so far (ms), where it is a process of its own. */
  databaseCpuMs?(): number;
}

/** Length of one side-by-side round: short rounds, taken in turn, share the machine's drift. */
const ROUND_SECONDS = 1.5;

/** The light steady page load that latency-under-disturbance scenarios measure. */
export function lightPageLoad(url: string, seconds: number): LoadOptions {
  return { url, paths: ['/'], connections: 5, rate: 100, seconds };
}

export interface Measured {
  result: LoadResult;
  cpuMsPerResponse: number;
  /** The database server's CPU time per response, while only this side ran; null on SQLite. */
  databaseCpuMsPerResponse: number | null;
}

/** One side of a comparison: the servers one load is spread over (round-robin by connection). */
export interface Side { label: string; servers: readonly RunningServer[]; load: Omit<LoadOptions, 'url' | 'seconds'> }

/**
 * Measures guestkit and the floor under the same load, in short rounds ordered app, floor, floor,
 * app (repeated), so a drift in the machine's background load (other jobs on these shared cores)
 * falls on both sides evenly. Each side runs `seconds` in all, after a warm-up. Also returns each
 * server's CPU time per response (all its threads), which drifts far less than throughput when
 * the machine is shared.
 */
export async function sideBySide(run: BenchRun, app: Omit<LoadOptions, 'url' | 'seconds'>, floor: Omit<LoadOptions, 'url' | 'seconds'>)
  : Promise<{ app: Measured; floor: Measured }> {
  const [measuredApp, measuredFloor] = await inTurn(run, [
    { label: 'app', servers: [run.guestkit], load: app },
    { label: 'floor', servers: [run.floor], load: floor },
  ]);
  return { app: measuredApp!, floor: measuredFloor! };
}

/**
 * Any number of sides in turn, as sideBySide does two: each cycle runs them forwards, then
 * backwards (A, B, C, C, B, A), so every side sees the same drift. A side's CPU time is that of
 * all its servers.
 */
export async function inTurn(run: BenchRun, sides: readonly Side[]): Promise<Measured[]> {
  const cycles = Math.max(1, Math.round(run.seconds / (2 * ROUND_SECONDS)));
  const round = run.seconds / (2 * cycles);
  const state = sides.map((side) => ({
    ...side, url: side.servers.length === 1 ? side.servers[0]!.url : side.servers.map((server) => server.url),
    results: [] as LoadResult[], cpu: 0, databaseCpu: 0,
  }));
  const databaseCpu = run.databaseCpuMs;
  const cpuOf = (side: (typeof state)[number]) => side.servers.reduce((sum, server) => sum + cpuMs(server.child.pid), 0);
  for (const side of state) await runLoad({ ...side.load, url: side.url, seconds: run.warmupSeconds });
  const labels = sides.map((side) => side.label);
  log(`  ${cycles * 2 * sides.length} rounds of ${round} s, ${labels.slice(0, -1).join(', ')} and ${labels.at(-1)} in turn`);
  const order = [...state, ...[...state].reverse()];
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (const side of order) {
      const before = cpuOf(side);
      const databaseBefore = databaseCpu?.() ?? 0;
      side.results.push(await runLoad({ ...side.load, url: side.url, seconds: round }));
      side.cpu += cpuOf(side) - before;
      side.databaseCpu += (databaseCpu?.() ?? 0) - databaseBefore;
    }
  }
  return state.map((side) => {
    const result = pool(side.results);
    return { result, cpuMsPerResponse: side.cpu / count(result), databaseCpuMsPerResponse: databaseCpu ? side.databaseCpu / count(result) : null };
  });
}

export interface SideBySideTargets {
  /** What a successful response is (302 for a new guest, 200 for a page). */
  status: number;
  unit: string;
  minRatio: number;
  /** An absolute p99 target, with the load it holds for. */
  p99?: { ms: number; unit: string };
}

/** Throughput (the headline, with its ratio target), p50, p99 and CPU per response, each beside the floor's. */
export function sideBySideRows(name: string, measured: { app: Measured; floor: Measured }, targets: SideBySideTargets): Row[] {
  const app = measured.app.result;
  const floor = measured.floor.result;
  const failures = failureRate(app, [targets.status]);
  const p99 = targets.p99;
  return [
    row({
      name, metric: 'throughput', value: perSecond(app, [targets.status]), unit: targets.unit, floor: perSecond(floor, [targets.status]),
      target: `ratio ≥ ${targets.minRatio}`, check: (_value, ratio) => ratio !== null && ratio >= targets.minRatio,
      note: failures > 0.001 ? `${(failures * 100).toFixed(1)}% of responses were not ${targets.status}` : undefined,
    }),
    row({ name, metric: 'p50', value: percentile(app, 0.5), unit: 'ms', floor: percentile(floor, 0.5), target: null }),
    row({
      name, metric: 'p99', value: percentile(app, 0.99), unit: p99?.unit ?? 'ms', floor: percentile(floor, 0.99),
      target: p99 ? `< ${p99.ms} ms` : null, check: p99 ? (value) => value < p99.ms : undefined,
    }),
    row({
      name, metric: 'CPU per response', value: measured.app.cpuMsPerResponse, unit: 'ms (server, all threads)',
      floor: measured.floor.cpuMsPerResponse, target: null,
    }),
    ...(measured.app.databaseCpuMsPerResponse === null ? [] : [row({
      name, metric: 'database CPU per response', value: measured.app.databaseCpuMsPerResponse, unit: 'ms (PostgreSQL, all backends)',
      floor: measured.floor.databaseCpuMsPerResponse, target: null,
    })]),
  ];
}
