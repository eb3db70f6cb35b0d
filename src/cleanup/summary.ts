import type { CleanupSummary } from './stale-guests.ts';

const count = new Intl.NumberFormat('en-US');

/** The summary for a person: what went (or would go), per collection, and how long it took. */
export function formatSummary(summary: CleanupSummary): string {
  const would = summary.dryRun;
  const lines = [
    `${would ? 'Dry run: would remove' : 'Removed'} ${count.format(summary.deleted)} guests idle since before ${summary.cutoff}`,
    ...Object.entries(summary.collections).map(([name, { deleted }]) => `  ${name}: ${count.format(deleted)}`),
    `Sessions ${would ? 'that would be ' : ''}removed: ${count.format(summary.sessionsRemoved)}`,
    `Orders ${would ? 'that would be ' : ''}detached (kept, with their snapshot): ${count.format(summary.ordersDetached)}`,
    `Took ${summary.seconds.toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}
