/**
 * Guest creation: `GET /try` from browsers with no cookies, each request a new visitor whom the
 * page signs in as a guest and redirects (302). Floor: one insert, a session, a 302. Where app
 * processes can share the database (PostgreSQL), also with two guestkit processes on two ports,
 * the same connections spread over both, beside the same one-process floor.
 */
import { failureRate, percentile, perSecond } from '../load.ts';
import { row, type Row } from '../report.ts';
import { inTurn, sideBySide, sideBySideRows, type BenchRun, type Measured } from '../run.ts';
import { Visitor } from '../visitor.ts';

export const NAME = 'guest-creation';
const GUESTKIT_COOKIES = ['__Host-gk.sid', '__Host-gk.resume'];
const TARGETS = { status: 302, unit: 'guests/s', minRatio: 0.8 };

export async function guestCreation(run: BenchRun): Promise<Row[]> {
  await expectNewGuest(run.guestkit.url, GUESTKIT_COOKIES);
  await expectNewGuest(run.floor.url, ['__Host-floor.sid']);
  const load = { paths: ['/try'], connections: run.connections };
  if (!run.startPeer) return sideBySideRows(NAME, await sideBySide(run, load, load), TARGETS);

  const peer = await run.startPeer();
  try {
    await expectNewGuest(peer.url, GUESTKIT_COOKIES);
    const [one, two, floor] = await inTurn(run, [
      { label: 'app', servers: [run.guestkit], load },
      { label: 'two app processes', servers: [run.guestkit, peer], load },
      { label: 'floor', servers: [run.floor], load },
    ]);
    return [...sideBySideRows(NAME, { app: one!, floor: floor! }, TARGETS), ...twoProcessRows(run, one!, two!, floor!)];
  } finally {
    await peer.stop();
  }
}

/** The two-process figures, beside the one-process floor: informational (issue 14 sets no target). */
function twoProcessRows(run: BenchRun, one: Measured, two: Measured, floor: Measured): Row[] {
  const guests = (measured: Measured) => perSecond(measured.result, [TARGETS.status]);
  const spread = `${run.connections} connections over both`;
  const failures = failureRate(two.result, [TARGETS.status]);
  const notes = [
    `2 processes give ${(guests(two) / guests(one)).toFixed(2)}× what 1 gives, on ${run.connections} connections either way`,
    failures > 0.001 ? `${(failures * 100).toFixed(1)}% of responses were not ${TARGETS.status}` : '',
  ];
  return [
    row({
      name: NAME, metric: 'throughput, 2 processes', value: guests(two), unit: `guests/s (${spread})`, floor: guests(floor), target: null,
      note: notes.filter(Boolean).join('; '),
    }),
    row({ name: NAME, metric: 'p99, 2 processes', value: percentile(two.result, 0.99), unit: 'ms', floor: percentile(floor.result, 0.99), target: null }),
    row({
      name: NAME, metric: 'CPU per response, 2 processes', value: two.cpuMsPerResponse, unit: 'ms (both servers, all threads)',
      floor: floor.cpuMsPerResponse, target: null,
    }),
  ];
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
