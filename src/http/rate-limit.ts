import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** One point of a limit, taken before the work it pays for. */
export interface Reservation {
  readonly granted: boolean;
  /** When refused: how long until a point is free again. */
  readonly retryAfterSeconds: number;
  /** Returns the point when the work did not use it. */
  refund(): void;
}

export interface RateLimiter {
  /** Takes one point now (granted or not); the caller decides what a refusal means. */
  reserve(key: string): Promise<Reservation>;
  /** Counts one point after the fact, whatever the key's state (work that could not wait for `reserve`). */
  charge(key: string): Promise<void>;
}

const UNLIMITED: RateLimiter = {
  reserve: async () => ({ granted: true, retryAfterSeconds: 0, refund() {} }),
  charge: async () => {},
};

/** Where the points of a limit are counted: in this process, or in a store every process shares. */
export type LimitStore = (options: { name: string; points: number; duration: number }) => RateLimiterAbstract;

/**
 * rate-limiter-flexible's in-memory store: each key expires with its window, so memory stays
 * bounded by the keys active in the last minute. Right for one process (SQLite).
 */
export const inMemory: LimitStore = ({ points, duration }) => new RateLimiterMemory({ points, duration });

/** Fixed-window limits per key, `perMinute` points a minute, counted in `store`. 0 disables the limit. */
export function createRateLimiter(perMinute: number, name = 'limit', store: LimitStore = inMemory): RateLimiter {
  if (perMinute === 0) return UNLIMITED;
  const limiter = store({ name, points: perMinute, duration: 60 });
  const retryAfter = (result: RateLimiterRes) => Math.max(1, Math.ceil(result.msBeforeNext / 1000));

  return {
    async reserve(key) {
      try {
        await limiter.consume(key);
        return { granted: true, retryAfterSeconds: 0, refund: () => void limiter.reward(key, 1).catch(() => {}) };
      } catch (result) {
        if (!(result instanceof RateLimiterRes)) throw result;
        return { granted: false, retryAfterSeconds: retryAfter(result), refund() {} };
      }
    },
    async charge(key) {
      await limiter.penalty(key, 1);
    },
  };
}
