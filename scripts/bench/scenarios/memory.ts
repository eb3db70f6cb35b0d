/**
 * Memory: the server's resident memory after 10,000 and after 100,000 new guests (GET /try
 * from new visitors) on a freshly started server; the growth between the two must stay bounded
 * (limiter stores, caches, prepared statements). The floor does the same with its visitors.
 */
import { count, runLoad } from '../load.ts';
import { log, rssMb } from '../processes.ts';
import { row, type Row } from '../report.ts';
import type { BenchRun } from '../run.ts';
import type { RunningServer } from '../servers.ts';

export const NAME = 'memory';
const GROWTH_TARGET_MB = 50;

/** Guests created before the first and the second reading; the quick run skips the floor to stay short. */
export interface MemoryPlan { first: number; total: number; floor: boolean }

export function memoryPlan(quick: boolean): MemoryPlan {
  return quick ? { first: 10_000, total: 15_000, floor: false } : { first: 10_000, total: 100_000, floor: true };
}

export async function memory(run: BenchRun, start: { app(): Promise<RunningServer>; floor(): Promise<RunningServer> }): Promise<Row[]> {
  const plan = memoryPlan(run.quick);
  const app = await growth(await start.app(), run, plan);
  const floor = plan.floor ? await growth(await start.floor(), run, plan) : null;
  const span = `${thousands(app.at[0])}→${thousands(app.at[1])} guests`;
  const notes = [
    app.at[1] < plan.total ? `only ${app.at[1]} of ${plan.total} guests were created in the time allowed` : '',
    plan.floor ? '' : 'the quick run skips the floor and stops at 15k guests; the full run goes to 100k',
  ].filter(Boolean).join('; ');
  return [
    row({
      name: NAME, metric: 'RSS growth', value: app.rss[1] - app.rss[0], unit: `MB (${span})`, floor: floor ? floor.rss[1] - floor.rss[0] : null,
      target: `< ${GROWTH_TARGET_MB} MB`, check: (value) => value < GROWTH_TARGET_MB, note: notes || undefined,
    }),
    row({ name: NAME, metric: `RSS at ${thousands(app.at[0])}`, value: app.rss[0], unit: 'MB', floor: floor?.rss[0] ?? null, target: null }),
    row({ name: NAME, metric: `RSS at ${thousands(app.at[1])}`, value: app.rss[1], unit: 'MB', floor: floor?.rss[1] ?? null, target: null }),
  ];
}

async function growth(server: RunningServer, run: BenchRun, plan: MemoryPlan) {
  try {
    const at: [number, number] = [0, 0];
    const rss: [number, number] = [0, 0];
    let created = 0;
    for (const [i, goal] of [plan.first, plan.total].entries()) {
      log(`  ${server.name}: new guests up to ${thousands(goal)}`);
      const result = await runLoad({
        url: server.url, paths: ['/try'], connections: run.connections, amount: goal - created,
        // Bounded even on a very slow day: 100 guests/s at least.
        seconds: Math.max(30, (goal - created) / 100),
      });
      created += count(result, [302]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      at[i] = created;
      rss[i] = rssMb(server.child.pid);
    }
    return { at, rss };
  } finally {
    await server.stop();
  }
}

function thousands(n: number): string {
  return n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
}
