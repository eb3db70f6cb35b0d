import http, { type RequestListener, type Server } from 'node:http';

/**
 * Node's defaults let a client hold a connection open by sending slowly: 60 s for the headers and
 * 300 s for the whole request, so a few hundred slow clients could tie up the server's sockets
 * with bytes a minute. Our requests are small (a form body is at most 64 kB, see body.ts): a
 * browser on a poor mobile connection sends one in a second or two, and these limits leave it
 * several times that.
 */
export const HEADERS_TIMEOUT_MS = 10_000;
/** For the whole request, body included; once it has arrived, the time spent answering does not count. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** Node checks the two timeouts only this often (30 s by default, which would triple the 10 s). */
const CHECK_EVERY_MS = 1_000;

/**
 * The HTTP server for the app, with the timeouts above: a client whose headers or request take
 * longer is answered 408 and disconnected.
 */
export function createHttpServer(app: RequestListener): Server {
  return http.createServer({
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: CHECK_EVERY_MS,
  }, app);
}
