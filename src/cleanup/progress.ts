import type { CleanupProgress } from './stale-guests.ts';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressReporter {
  update(progress: CleanupProgress): void;
  /** Ends the bar's line, so what follows starts on a fresh one. */
  finish(): void;
}

const REDRAW_MS = 100;
const LINE_EVERY_MS = 10_000;
const count = new Intl.NumberFormat('en-US');

/**
 * Progress on stderr: on a terminal, one bar redrawn in place (at most ten times a second);
 * elsewhere (a log file, cron), plain lines: at the start and end of each sweep, and every
 * tenth of the way or ten seconds in between.
 */
export function createProgressReporter(out: ProgressOutput, options: { dryRun: boolean }): ProgressReporter {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const verb = options.dryRun ? 'would remove' : 'removed';
  let drawn = false;
  let lastDraw = 0;
  let lastLine = { at: 0, tenth: 0 };

  // "users (stale)", "customers (bounced)", and "sessions" for the last sweep.
  const labelOf = (progress: CleanupProgress) =>
    progress.kind === 'sessions' ? 'sessions' : `${progress.collection} (${progress.kind})`;

  function bar(progress: CleanupProgress): string {
    const share = progress.total === 0 ? 1 : progress.done / progress.total;
    const label = labelOf(progress);
    const counts = `${count.format(progress.done)}/${count.format(progress.total)}  ${elapsed()}`;
    const width = Math.max(10, Math.min(40, (out.columns ?? 80) - label.length - counts.length - 12));
    const filled = Math.round(share * width);
    return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${counts}`;
  }

  function line(progress: CleanupProgress): string {
    const label = progress.kind === 'sessions' ? 'sessions of removed guests' : `${progress.collection}: ${progress.kind} guests`;
    if (progress.done === 0) return `${label}: ${count.format(progress.total)} to go (${elapsed()})\n`;
    return `${label}: ${verb} ${count.format(progress.done)} of ${count.format(progress.total)} (${elapsed()})\n`;
  }

  return {
    update(progress) {
      const now = performance.now();
      const complete = progress.done >= progress.total;
      if (out.isTTY) {
        if (!complete && progress.done > 0 && now - lastDraw < REDRAW_MS) return;
        out.write(`\r\x1b[2K${bar(progress)}`);
        drawn = true;
        lastDraw = now;
        if (complete) {
          out.write('\n');
          drawn = false;
        }
        return;
      }
      const tenth = progress.total === 0 ? 10 : Math.floor((progress.done / progress.total) * 10);
      if (progress.done === 0) lastLine = { at: now, tenth };
      else if (tenth > lastLine.tenth || now - lastLine.at >= LINE_EVERY_MS) lastLine = { at: now, tenth };
      else return;
      out.write(line(progress));
    },
    finish() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
