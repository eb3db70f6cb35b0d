/**
 * One browser for the bench's setup and login loops: keeps its cookies, sends a browser
 * User-Agent and `X-Forwarded-Proto: https`, follows GET redirects, and submits a page's form
 * with the CSRF token the page carries. node:http, so nothing adds headers we did not choose.
 */
import http from 'node:http';
import { BROWSER_HEADERS } from './load.ts';

// A connection per request: a kept-alive socket the server closes (its 5 s keep-alive timeout)
// just as we reuse it fails with "socket hang up", and these requests are not what is measured.
const agent = new http.Agent({ keepAlive: false, maxSockets: 64 });
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

export interface Page { status: number; location: string | undefined; body: string }

export class Visitor {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly baseUrl: string) {}

  /** The Cookie header this browser would send. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  has(cookie: string): boolean {
    return this.cookies.has(cookie);
  }

  /** GET, following redirects as a browser would. */
  async get(path: string): Promise<Page> {
    let page = await this.request('GET', path);
    for (let hops = 0; page.location && page.status >= 300 && page.status < 400; hops++) {
      if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${path}`);
      page = await this.request('GET', new URL(page.location, this.baseUrl).pathname);
    }
    return page;
  }

  /** Loads `path` and posts `fields` to it with the page's CSRF token; the answer is not followed. */
  async submit(path: string, fields: Record<string, string>): Promise<Page> {
    const form = await this.get(path);
    const token = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path} (status ${form.status})`);
    return this.request('POST', path, { ...fields, _csrf: token });
  }

  request(method: 'GET' | 'POST', path: string, fields?: Record<string, string>): Promise<Page> {
    const body = fields ? new URLSearchParams(fields).toString() : undefined;
    const headers: Record<string, string> = { ...BROWSER_HEADERS };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(new URL(path, this.baseUrl), { method, headers, agent }, (res) => {
        this.keepCookies(res.headers['set-cookie'] ?? []);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private keepCookies(headers: readonly string[]): void {
    for (const header of headers) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expires = attributes.map((part) => /^\s*expires=(.*)$/i.exec(part)?.[1]).find(Boolean);
      const cleared = value === '' || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (cleared) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** Closes the kept-alive sockets so the process can exit. */
export function closeVisitors(): void {
  agent.destroy();
}
