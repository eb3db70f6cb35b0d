import type { PageScope } from '../pages/scope.ts';

/** The account the page renders for (a guest's or a member's), or null when nobody is signed in. */
export const accountIdOf = (scope: PageScope): string | null => scope.visitor?.id ?? null;

/** The signed-in account; a page that calls a service needing one without signing in first has a bug. */
export function signedInAccountId(scope: PageScope): string {
  const id = accountIdOf(scope);
  if (!id) throw new Error('this service needs a signed-in visitor: call requireAuth() first');
  return id;
}
