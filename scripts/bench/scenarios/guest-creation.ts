/**
 * Guest creation: `GET /try` from browsers with no cookies, each request a new visitor whom the
 * page signs in as a guest and redirects (302). Floor: one insert, a session, a 302.
 */
import type { Row } from '../report.ts';
import { sideBySide, sideBySideRows, type BenchRun } from '../run.ts';
import { Visitor } from '../visitor.ts';

export const NAME = 'guest-creation';

export async function guestCreation(run: BenchRun): Promise<Row[]> {
  await expectNewGuest(run.guestkit.url, ['__Host-gk.sid', '__Host-gk.resume']);
  await expectNewGuest(run.floor.url, ['__Host-floor.sid']);
  const load = { paths: ['/try'], connections: run.connections };
  const measured = await sideBySide(run, load, load);
  return sideBySideRows(NAME, measured, { status: 302, unit: 'guests/s', minRatio: 0.8 });
}

/** A run where no guest is created would measure nothing: check one visitor gets the cookies first. */
async function expectNewGuest(url: string, cookies: readonly string[]): Promise<void> {
  const visitor = new Visitor(url);
  const page = await visitor.request('GET', '/try');
  const missing = cookies.filter((name) => !visitor.has(name));
  if (page.status !== 302 || missing.length) {
    throw new Error(`GET ${url}/try answered ${page.status} without ${missing.join(', ') || 'a redirect'}: no guest was created`);
  }
}
