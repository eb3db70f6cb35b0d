import { describe, expect, it } from 'vitest';
import { createProgressReporter } from '../../src/cleanup/progress.ts';
import type { CleanupProgress } from '../../src/cleanup/stale-guests.ts';

function output(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 100, write: (text: string) => writes.push(text) } };
}

const step = (done: number, total = 10_000): CleanupProgress => ({ collection: 'users', kind: 'stale', done, total });

describe('progress on a terminal', () => {
  it('redraws one bar in place, at most ten times a second, and ends its line when the sweep completes', () => {
    const { writes, out } = output(true);
    const progress = createProgressReporter(out, { dryRun: false });
    for (let done = 0; done <= 10_000; done += 1000) progress.update(step(done));
    progress.finish();
    expect(writes[0]).toMatch(/^\r\x1b\[2Kusers \(stale\) \[-+\] {3}0% {2}0\/10,000 {2}\d+\.\ds$/);
    // Batches arriving within 100 ms of the last redraw are skipped; the last one is always drawn.
    expect(writes).toHaveLength(3);
    expect(writes[1]).toMatch(/^\r\x1b\[2Kusers \(stale\) \[#+\] 100% {2}10,000\/10,000/);
    expect(writes[2]).toBe('\n');
  });

  it('ends an unfinished bar\'s line when the run stops early', () => {
    const { writes, out } = output(true);
    const progress = createProgressReporter(out, { dryRun: false });
    progress.update(step(0));
    progress.finish();
    expect(writes.at(-1)).toBe('\n');
  });
});

describe('progress in a log', () => {
  it('prints plain lines: the count to go, each tenth of the way, and the end', () => {
    const { writes, out } = output(false);
    const progress = createProgressReporter(out, { dryRun: true });
    for (let done = 0; done <= 10_000; done += 500) progress.update(step(done));
    progress.update({ collection: 'sessions', kind: 'sessions', done: 0, total: 3 });
    expect(writes).toHaveLength(12);
    expect(writes[0]).toMatch(/^users: stale guests: 10,000 to go \(\d+\.\ds\)\n$/);
    expect(writes[1]).toMatch(/^users: stale guests: would remove 1,000 of 10,000 \(/);
    expect(writes[10]).toMatch(/^users: stale guests: would remove 10,000 of 10,000 \(/);
    expect(writes[11]).toMatch(/^sessions of removed guests: 3 to go/);
    expect(writes.join('')).not.toContain('\r');
  });
});
