/**
 * The state record of a sign-in sent to a provider (src/auth/oidc/pending-sign-ins.ts): kept in
 * the session, single use, short-lived, a few at a time.
 */
import type { Session, SessionData } from 'express-session';
import { describe, expect, it } from 'vitest';
import { newPendingSignIn, PENDING_LIFETIME_MS, rememberSignIn, takeSignIn } from '../../../src/auth/oidc/pending-sign-ins.ts';

const session = () => ({}) as Session & Partial<SessionData>;
const pending = (startedAt = 1_000) => newPendingSignIn({ provider: 'acme', intent: 'continue', next: '/', visitorId: null, startedAt });

describe('a pending sign-in', () => {
  it('has its own random state, nonce and PKCE verifier', () => {
    const [one, two] = [pending(), pending()];
    expect(one.state).not.toBe(two.state);
    expect(one.nonce).not.toBe(two.nonce);
    expect(one.codeVerifier).not.toBe(two.codeVerifier);
    expect(one.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
  });

  it('is taken once: the second take of its state finds nothing, and the session keeps no empty list', () => {
    const bag = session();
    const sent = pending();
    rememberSignIn(bag, sent, 1_000);
    expect(takeSignIn(bag, sent.state, 2_000)).toEqual(sent);
    expect(takeSignIn(bag, sent.state, 2_000)).toBeNull();
    expect(bag.pendingSignIns).toBeUndefined();
  });

  it('is refused after its lifetime, and taken out all the same', () => {
    const bag = session();
    const sent = pending();
    rememberSignIn(bag, sent, 1_000);
    expect(takeSignIn(bag, sent.state, 1_000 + PENDING_LIFETIME_MS + 1)).toBeNull();
    expect(bag.pendingSignIns).toBeUndefined();
  });

  it('waits beside others begun in other tabs, five at most, the oldest dropped', () => {
    const bag = session();
    const sent = Array.from({ length: 6 }, () => pending());
    for (const each of sent) rememberSignIn(bag, each, 1_000);
    expect(takeSignIn(bag, sent[0]!.state, 1_000)).toBeNull();
    expect(takeSignIn(bag, sent[3]!.state, 1_000)).toEqual(sent[3]);
    expect(bag.pendingSignIns).toEqual([sent[1], sent[2], sent[4], sent[5]]);
  });

  it('is not found by an empty or missing state, or one that is not a string', () => {
    const bag = session();
    rememberSignIn(bag, pending(), 1_000);
    for (const state of ['', undefined, ['x'], { state: 'x' }]) expect(takeSignIn(bag, state, 1_000)).toBeNull();
    expect(bag.pendingSignIns).toHaveLength(1);
  });
});
