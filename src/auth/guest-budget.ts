import type { RateLimiter, Reservation } from '../http/rate-limit.ts';
import type { PageScope } from '../pages/scope.ts';
import { AuthError } from './errors.ts';

/**
 * New guests per client address (`GUEST_RATE_LIMIT`). `signInAnonymously()` is synchronous and
 * cannot wait for the limiter, so a page that may create a guest reserves one guest's worth
 * before it renders; the render spends it or the reservation is refunded afterwards.
 */
export interface GuestBudget {
  /** Before the render of a page that may create a guest (its templates call `signInAnonymously`). */
  reserve(scope: PageScope): Promise<void>;
  /** A guest is about to be made in this render; throws `rate_limited` when the address is over its limit. */
  spend(scope: PageScope): void;
  /** After the render: refunds an unused reservation, counts guests it did not pay for. */
  settle(scope: PageScope): void;
}

interface Held { reservation: Reservation | undefined; created: number }

export function createGuestBudget(limiter: RateLimiter): GuestBudget {
  const held = new WeakMap<PageScope, Held>();
  const keyOf = (scope: PageScope) => `ip:${scope.req.ip}`;
  const stateOf = (scope: PageScope): Held => {
    let state = held.get(scope);
    if (!state) held.set(scope, (state = { reservation: undefined, created: 0 }));
    return state;
  };

  return {
    async reserve(scope) {
      stateOf(scope).reservation = await limiter.reserve(keyOf(scope));
    },

    spend(scope) {
      const state = stateOf(scope);
      const { reservation } = state;
      if (reservation && !reservation.granted) scope.raise(new AuthError('rate_limited', reservation.retryAfterSeconds));
      state.created++;
    },

    /**
     * A second guest in one render, or one made by a page the scan judged unable to (a call it
     * could not see), is still made, since refusing it would break a page that works, and is
     * counted now, so the limit holds from the next request on. The scan treats any computed
     * include path as a possible call, which keeps that case to templates that hide the name.
     */
    settle(scope) {
      const state = held.get(scope);
      if (!state) return;
      const prepaid = state.reservation?.granted ? 1 : 0;
      if (prepaid && state.created === 0) state.reservation!.refund();
      for (let unpaid = prepaid; unpaid < state.created; unpaid++) limiter.charge(keyOf(scope)).catch(() => {});
    },
  };
}
