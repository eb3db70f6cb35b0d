import type pg from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { LimitStore } from '../../http/rate-limit.ts';

/**
 * Limits counted in the `rate_limits` table (migration 004), so 30 new guests a minute per
 * address holds across every app process. rate-limiter-flexible's own Postgres store: one upsert
 * per point, keys prefixed by the limit's name; each process prunes rows expired an hour ago.
 */
export function postgresLimits(pool: pg.Pool): LimitStore {
  return ({ name, points, duration }) => new RateLimiterPostgres({
    storeClient: pool, storeType: 'pool', tableName: 'rate_limits', tableCreated: true,
    keyPrefix: name, points, duration,
  });
}
