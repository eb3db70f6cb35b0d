/**
 * `npm run seed:guests -- --count N [--age 60d] [--collection users] [--no-sessions]
 * [--cart-ratio 0.2] [--json]`: writes N stale guests for tests and benchmarks, into the database of
 * DATABASE_URL when it is set, else into DATA_DIR.
 */
import path from 'node:path';
import { ConfigError, loadConfig, redactedUrl, type Config } from '../src/config.ts';
import { collectionsArg, durationArg, integerArg, parseFlags } from '../src/cleanup/args.ts';
import { CleanupError, exitStatus } from '../src/cleanup/errors.ts';
import { openPostgresStorage } from '../src/db/postgres/storage.ts';
import { openFailure } from '../src/db/postgres/pool.ts';
import { migrate } from '../src/db/sqlite/migrate.ts';
import { openDb, openSessionDb } from '../src/db/sqlite/open.ts';
import { createSqliteProductStore } from '../src/db/sqlite/shop-stores.ts';
import { applySqliteWrite } from '../src/db/sqlite/unit-of-work.ts';
import { catalogue } from '../src/shop/products.ts';
import { createPostgresSeedWriter } from './support/postgres-seed-writer.ts';
import { seedGuests, type SeedOptions, type SeedSummary } from './support/seed-guests.ts';
import { createSqliteSeedWriter } from './support/sqlite-seed-writer.ts';

const USAGE = `Usage: npm run seed:guests -- --count <n> [options]

Writes <n> stale guests (accounts, sessions, some carts) for tests and benchmarks: into the
PostgreSQL database of DATABASE_URL when it is set, else into DATA_DIR.

Options:
  --count <n>           how many guests (required), up to 10000000
  --age <duration>      last active at least this long ago, up to a day more (default 60d)
  --collection <name>   the collection to fill (default users)
  --with-sessions       one live session per guest (the default); --no-sessions for none
  --cart-ratio <0-1>    the fraction of guests with a cart row (default 0.2)
  --json                print only the summary on stdout, as one JSON object
`;

async function main(argv: readonly string[]): Promise<void> {
  const config = loadConfig(process.env);
  const { values } = parseFlags(argv, {
    count: { type: 'string' },
    age: { type: 'string', default: '60d' },
    collection: { type: 'string', default: 'users' },
    'with-sessions': { type: 'boolean', default: true },
    'no-sessions': { type: 'boolean', default: false },
    'cart-ratio': { type: 'string', default: '0.2' },
    json: { type: 'boolean', default: false },
  });
  if (values.count === undefined) throw new CleanupError('invalid_argument', '--count is required');
  const cartRatio = Number(values['cart-ratio']);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(values['cart-ratio'] as string) || cartRatio > 1) {
    throw new CleanupError('invalid_argument', `--cart-ratio must be a number from 0 to 1 (got "${values['cart-ratio']}")`);
  }
  const options: SeedOptions = {
    count: integerArg('count', values.count as string, 1, 10_000_000),
    ageMs: durationArg('age', values.age as string, 0),
    collection: collectionsArg([values.collection as string], config.collections)[0]!,
    withSessions: !values['no-sessions'],
    cartRatio,
  };
  const summary = config.databaseUrl ? await seedPostgres(config, config.databaseUrl, options) : await seedSqlite(config, options);
  const into = config.databaseUrl ? redactedUrl(config.databaseUrl) : config.dataDir;
  process.stdout.write(values.json ? `${JSON.stringify(summary)}\n`
    : `Seeded ${summary.guests} guests in ${options.collection} (${summary.sessions} sessions, ${summary.carts} carts) `
      + `into ${into} in ${summary.seconds.toFixed(1)} s\n`);
}

async function seedSqlite(config: Readonly<Config>, options: SeedOptions): Promise<SeedSummary> {
  const db = openDb(path.join(config.dataDir, 'app.db'));
  const sessionDb = openSessionDb(path.join(config.dataDir, 'sessions.db'));
  // Random ids land all over the tables' B-trees: a big page cache keeps a million inserts from
  // re-reading pages (the seeder is the only writer of these connections, for a minute at most).
  for (const connection of [db, sessionDb]) connection.pragma('cache_size = -262144');
  try {
    migrate(db, config.collections);
    db.transaction(() => applySqliteWrite(createSqliteProductStore(db).seed(catalogue)))();
    return await seedGuests(createSqliteSeedWriter({ db, sessionDb }, options.collection), options);
  } finally {
    sessionDb.close();
    db.close();
  }
}

/** Migrated and the catalogue seeded as the app's start would (the carts need its products). */
async function seedPostgres(config: Readonly<Config>, databaseUrl: string, options: SeedOptions): Promise<SeedSummary> {
  const storage = await openPostgresStorage({ databaseUrl, poolSize: 1, collections: config.collections }, Date.now)
    .catch((error: unknown) => { throw openFailure(databaseUrl, error); });
  try {
    return await seedGuests(createPostgresSeedWriter(storage, options.collection), options);
  } finally {
    await storage.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const status = error instanceof ConfigError ? 1 : exitStatus(error);
  process.stderr.write(`seed:guests: ${(error as Error).message}\n`);
  if (status === 2) process.stderr.write(`\n${USAGE}`);
  process.exitCode = status;
});
