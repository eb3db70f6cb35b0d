/**
 * Slow clients: a connection that trickles its headers or its body is answered 408 and closed
 * after the headers timeout (10 s) or the request timeout (15 s), not Node's 60 s and 300 s. The
 * attacks are raw sockets, e.g. (Slowloris):
 *   GET /login HTTP/1.1\r\nHost: shop.example\r\nX-a: b\r\n   …and then nothing, for minutes.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../src/http/http-server.ts';
import { BROWSER_UA, startApp, type TestApp } from '../support.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** Node checks the timeouts every second: a connection goes within a second after its deadline. */
const CHECK_SLACK_MS = 1_500;

interface Ended { answer: string; afterMs: number }

/**
 * Opens a connection, sends `start`, then each of `trickle` every `everyMs`; resolves when the
 * server closes the connection, with what it answered, or rejects at `giveUpMs`.
 */
function slowClient(start: string, trickle: string[], everyMs: number, giveUpMs: number): Promise<Ended> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const socket = net.connect(Number(port), hostname, () => socket.write(start));
    let answer = '';
    const drip = setInterval(() => { if (trickle.length && socket.writable) socket.write(trickle.shift()!); }, everyMs);
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still connected after ${giveUpMs} ms; answered so far: ${JSON.stringify(answer)}`));
    }, giveUpMs);
    socket.on('data', (chunk) => { answer += chunk.toString(); });
    socket.on('error', () => {}); // a reset after the 408 is the server closing too
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ answer, afterMs: performance.now() - began });
    });
  });
}

const HEAD = `Host: 127.0.0.1\r\nUser-Agent: ${BROWSER_UA}\r\n`;

describe.concurrent('a slow client', () => {
  it('that sends half its headers and stalls is answered 408 and disconnected after the headers timeout', async () => {
    const ended = await slowClient(`GET /login HTTP/1.1\r\n${HEAD}`, [], 1_000, HEADERS_TIMEOUT_MS + CHECK_SLACK_MS);
    expect(ended.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(ended.afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
  });

  it('that sends its body a byte at a time is answered 408 and disconnected after the request timeout', async () => {
    const body = 'email=a%40example.com&password=slow&_csrf=x'.padEnd(200, 'x');
    const head = `POST /login HTTP/1.1\r\n${HEAD}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
    const ended = await slowClient(head, [...body], 250, REQUEST_TIMEOUT_MS + CHECK_SLACK_MS);
    expect(ended.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(ended.afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  });

  it('whose headers arrive in pieces within the timeout is answered as usual', async () => {
    const ended = await slowClient(`GET /login HTTP/1.1\r\n`, [HEAD, 'Connection: close\r\n\r\n'], 1_000, HEADERS_TIMEOUT_MS);
    expect(ended.answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});
