import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, duration } from '../config.ts';
import { CleanupError } from './errors.ts';
import type { CleanupOptions } from './stale-guests.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_BATCH_SIZE = 10_000;
/**
 * Guests per batch when `--batch-size` is not given. A SQLite batch holds the database's one
 * write lock, which every request that writes waits for: it stays short. A PostgreSQL batch locks
 * only the stale guests' own rows, so live requests never wait on it, and each batch costs some
 * 30 ms whatever its size (measured: 100,000 guests in 7.4 s at 1,000, 5.0 s at 5,000).
 */
export const DEFAULT_BATCH_SIZE = { sqlite: 1000, postgres: 5000 } as const;

export const USAGE = `Usage: npm run cleanup -- [options]

Removes guest accounts idle for longer than the cutoff, with their sessions, carts and
notes. Orders are never deleted: they stay, detached from the guest, with their snapshot.

Options:
  --older-than <duration>     remove guests idle longer than this
                              (default: GUEST_RETENTION_DAYS, 30d)
  --bounced-after <duration>  also remove, sooner, guests older than this that never came
                              back after their first request and own no data (default: off)
  --collection <name>         clean only this collection; repeat it or use a comma list
                              (default: every configured collection)
  --dry-run                   count what would be removed and change nothing
  --batch-size <n>            guests per batch, 1-${MAX_BATCH_SIZE} (default ${DEFAULT_BATCH_SIZE.sqlite};
                              ${DEFAULT_BATCH_SIZE.postgres} with DATABASE_URL, where it splits over two transactions)
  --json                      print only the summary on stdout, as one JSON object
  -h, --help                  show this text

Durations: 90m, 12h, 7d, 3600s; less than 1h is refused.
Exit status: 0 done, 1 failed or another cleanup is running, 2 bad arguments.
`;

export type CleanupCommand = { help: true } | { help: false; options: CleanupOptions; json: boolean };

/** Reads the command line against the configuration (default cutoff, collections). */
export function parseCleanupArgs(
  argv: readonly string[], config: { collections: readonly string[]; guestRetentionDays: number; databaseUrl?: string | null },
  now: number,
): CleanupCommand {
  const { values } = parseFlags(argv, {
    'older-than': { type: 'string' },
    'bounced-after': { type: 'string' },
    collection: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return { help: true };
  const olderThan = values['older-than'] === undefined
    ? config.guestRetentionDays * DAY : durationArg('older-than', values['older-than'] as string, HOUR);
  const bouncedAfter = values['bounced-after'] === undefined
    ? null : durationArg('bounced-after', values['bounced-after'] as string, HOUR);
  return {
    help: false,
    json: values.json as boolean,
    options: {
      cutoff: now - olderThan,
      bouncedCutoff: bouncedAfter === null ? null : now - bouncedAfter,
      collections: collectionsArg(values.collection as string[] | undefined, config.collections),
      dryRun: values['dry-run'] as boolean,
      batchSize: values['batch-size'] === undefined
        ? DEFAULT_BATCH_SIZE[config.databaseUrl ? 'postgres' : 'sqlite'] : integerArg('batch-size', values['batch-size'] as string, 1, MAX_BATCH_SIZE),
    },
  };
}

/** `util.parseArgs`, strict, its errors turned into `invalid_argument`. */
export function parseFlags(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new CleanupError('invalid_argument', (error as Error).message);
  }
}

/** A duration flag in ms, at least `min`. */
export function durationArg(flag: string, text: string, min: number): number {
  let ms: number;
  try {
    ms = duration(`--${flag}`, text);
  } catch (error) {
    if (error instanceof ConfigError) throw new CleanupError('invalid_argument', `--${flag} must be a duration such as 12h or 7d (got "${text}")`);
    throw error;
  }
  if (ms < min) throw new CleanupError('invalid_argument', `--${flag} must be at least ${min / HOUR}h (got "${text}"): a shorter cutoff would remove guests still using the site`);
  return ms;
}

export function integerArg(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CleanupError('invalid_argument', `--${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}

/** Repeated or comma-separated names, each one a configured collection; none given means all. */
export function collectionsArg(given: readonly string[] | undefined, configured: readonly string[]): string[] {
  if (given === undefined) return [...configured];
  const names = [...new Set(given.flatMap((value) => value.split(',')).map((name) => name.trim()).filter(Boolean))];
  if (names.length === 0) throw new CleanupError('invalid_argument', '--collection needs a name');
  for (const name of names) {
    if (!configured.includes(name)) {
      throw new CleanupError('invalid_argument', `--collection "${name}" is not a configured collection (configured: ${configured.join(', ')})`);
    }
  }
  return names;
}
