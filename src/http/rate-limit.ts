import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthError } from '../auth/errors.ts';

/** A budget taken before a page renders, since template helpers are synchronous. */
export interface Reservation {
  readonly granted: boolean;
  readonly retryAfterSeconds: number;
  /** Returns the point when the page did not use it. */
  refund(): void;
}

export interface RateLimiter {
  /** Counts one attempt; throws `rate_limited` when the key is over its limit. */
  consume(key: string): Promise<void>;
  /** Takes one point now, to be spent synchronously later or refunded. */
  reserve(key: string): Promise<Reservation>;
}

const UNLIMITED: RateLimiter = {
  consume: async () => {},
  reserve: async () => ({ granted: true, retryAfterSeconds: 0, refund() {} }),
};

/**
 * Fixed-window limits per key (rate-limiter-flexible's in-memory store: each key expires with its
 * window, so memory stays bounded by the keys active in the last minute). 0 disables the limit.
 */
export function createRateLimiter(perMinute: number): RateLimiter {
  if (perMinute === 0) return UNLIMITED;
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  const retryAfter = (result: RateLimiterRes) => Math.max(1, Math.ceil(result.msBeforeNext / 1000));

  return {
    async consume(key) {
      try {
        await limiter.consume(key);
      } catch (result) {
        if (result instanceof RateLimiterRes) throw new AuthError('rate_limited', retryAfter(result));
        throw result;
      }
    },
    async reserve(key) {
      try {
        await limiter.consume(key);
        return { granted: true, retryAfterSeconds: 0, refund: () => void limiter.reward(key, 1) };
      } catch (result) {
        if (!(result instanceof RateLimiterRes)) throw result;
        return { granted: false, retryAfterSeconds: retryAfter(result), refund() {} };
      }
    },
  };
}
