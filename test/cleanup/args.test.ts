/**
 * `npm run cleanup`'s batch size: short batches on SQLite, whose one write lock every request
 * waits for, and larger ones on PostgreSQL, where a batch locks only the stale guests' rows.
 */
import { describe, expect, it } from 'vitest';
import { parseCleanupArgs } from '../../src/cleanup/args.ts';

const config = { collections: ['users'], guestRetentionDays: 30 };
const batchSizeOf = (argv: string[], databaseUrl: string | null) => {
  const command = parseCleanupArgs(argv, { ...config, databaseUrl }, Date.now());
  if (command.help) throw new Error('parsed as --help');
  return command.options.batchSize;
};

describe('--batch-size', () => {
  it('defaults to 1,000 guests on SQLite and 5,000 with DATABASE_URL', () => {
    expect(batchSizeOf([], null)).toBe(1000);
    expect(batchSizeOf([], 'postgres://guestkit@127.0.0.1:5432/shop')).toBe(5000);
  });

  it('is what the operator gives, on either backend', () => {
    expect(batchSizeOf(['--batch-size', '250'], null)).toBe(250);
    expect(batchSizeOf(['--batch-size', '250'], 'postgres://guestkit@127.0.0.1:5432/shop')).toBe(250);
  });
});
