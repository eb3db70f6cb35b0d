/** What every scenario gets: the run's settings and the two servers it compares. */
import { count, failureRate, percentile, perSecond, pool, runLoad, type LoadOptions, type LoadResult } from './load.ts';
import { cpuMs, log } from './processes.ts';
import { row, type Row } from './report.ts';
import type { RunningServer } from './servers.ts';

export interface BenchRun {
  quick: boolean;
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
}

/** Length of one side-by-side round: short rounds, taken in turn, share the machine's drift. */
const ROUND_SECONDS = 1.5;

/** The light steady page load that latency-under-disturbance scenarios measure. */
export function lightPageLoad(url: string, seconds: number): LoadOptions {
  return { url, paths: ['/'], connections: 5, rate: 100, seconds };
}

export interface Measured { result: LoadResult; cpuMsPerResponse: number }

/**
 * Measures guestkit and the floor under the same load, in short rounds ordered app, floor, floor,
 * app (repeated), so a drift in the machine's background load (other jobs on these shared cores)
 * falls on both sides evenly. Each side runs `seconds` in all, after a warm-up. Also returns each
 * server's CPU time per response (all its threads), which drifts far less than throughput when
 * the machine is shared.
 */
export async function sideBySide(run: BenchRun, app: Omit<LoadOptions, 'url' | 'seconds'>, floor: Omit<LoadOptions, 'url' | 'seconds'>)
  : Promise<{ app: Measured; floor: Measured }> {
  const cycles = Math.max(1, Math.round(run.seconds / (2 * ROUND_SECONDS)));
  const round = run.seconds / (2 * cycles);
  const sides = {
    app: { server: run.guestkit, load: app, results: [] as LoadResult[], cpu: 0 },
    floor: { server: run.floor, load: floor, results: [] as LoadResult[], cpu: 0 },
  };
  for (const side of Object.values(sides)) await runLoad({ ...side.load, url: side.server.url, seconds: run.warmupSeconds });
  log(`  ${cycles * 4} rounds of ${round} s, app and floor in turn`);
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (const name of ['app', 'floor', 'floor', 'app'] as const) {
      const side = sides[name];
      const before = cpuMs(side.server.child.pid);
      side.results.push(await runLoad({ ...side.load, url: side.server.url, seconds: round }));
      side.cpu += cpuMs(side.server.child.pid) - before;
    }
  }
  const measured = (side: typeof sides.app): Measured => {
    const result = pool(side.results);
    return { result, cpuMsPerResponse: side.cpu / count(result) };
  };
  return { app: measured(sides.app), floor: measured(sides.floor) };
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
  ];
}
