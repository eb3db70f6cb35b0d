/**
 * The load generator: autocannon's programmatic API, with every response's latency recorded
 * here. autocannon's own histogram has 1 ms resolution, and with a fixed request rate it
 * "corrects" latencies with an expected interval of ceil(1 / rate) = 1 ms, which invents
 * samples for every response slower than 1 ms; our own list is exact and lets rounds be pooled.
 */
import autocannon from 'autocannon';

/** Headers every bench request sends: a browser (crawlers never get guests), behind TLS. */
export const BROWSER_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  // Production cookies are `__Host-` and Secure: without this (trusted from loopback) no session cookie is set.
  'x-forwarded-proto': 'https',
};

export interface LoadOptions {
  /** Several URLs (app processes): autocannon gives connection i to URL i mod n, round-robin. */
  url: string | readonly string[];
  /** Each connection requests these in turn. */
  paths: readonly string[];
  connections: number;
  /** Run this long, or until `amount` responses. */
  seconds: number;
  amount?: number;
  /** A light steady load: this many requests per second overall. */
  rate?: number;
  /** One Cookie header per connection (round-robin): each connection is one signed-in visitor. */
  cookies?: readonly string[];
}

export interface LoadResult {
  seconds: number;
  statuses: Record<number, number>;
  errors: number;
  /** Milliseconds, one per response. */
  latencies: number[];
}

export interface RunningLoad {
  done: Promise<LoadResult>;
  stop(): void;
}

/** Starts a load; it ends after `seconds` (also when `amount` is set: a hard bound), or on `stop()`. */
export function startLoad(options: LoadOptions): RunningLoad {
  const latencies: number[] = [];
  const started = performance.now();
  let connection = 0;
  let instance: ReturnType<typeof autocannon> | undefined;
  let bound: NodeJS.Timeout | undefined;
  const done = new Promise<LoadResult>((resolve, reject) => {
    instance = autocannon({
      url: typeof options.url === 'string' ? options.url : [...options.url],
      connections: options.connections,
      duration: options.seconds,
      amount: options.amount,
      overallRate: options.rate,
      ignoreCoordinatedOmission: options.rate !== undefined,
      timeout: 10,
      headers: { ...BROWSER_HEADERS },
      requests: options.paths.map((path) => ({ method: 'GET', path })),
      setupClient(client) {
        const cookie = options.cookies?.[connection++ % options.cookies.length];
        if (cookie) client.setRequests(options.paths.map((path) => ({ method: 'GET', path, headers: { cookie } })));
      },
    }, (error, result) => {
      clearTimeout(bound);
      if (error) return reject(error);
      const statuses: Record<number, number> = {};
      for (const [code, { count }] of Object.entries(result.statusCodeStats)) statuses[Number(code)] = count;
      resolve({ seconds: (performance.now() - started) / 1000, statuses, errors: result.errors, latencies });
    });
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => void latencies.push(responseTimeMs));
  });
  // `amount` overrides autocannon's duration: keep the run bounded in time anyway.
  bound = setTimeout(() => instance?.stop(), (options.seconds + 5) * 1000);
  return { done, stop: () => instance?.stop() };
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return startLoad(options).done;
}

/** Pools several runs into one: their times add up, their latencies form one distribution. */
export function pool(results: readonly LoadResult[]): LoadResult {
  const statuses: Record<number, number> = {};
  for (const result of results) {
    for (const [code, count] of Object.entries(result.statuses)) statuses[Number(code)] = (statuses[Number(code)] ?? 0) + count;
  }
  return {
    seconds: results.reduce((sum, result) => sum + result.seconds, 0),
    statuses,
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    latencies: results.flatMap((result) => result.latencies),
  };
}

/** The q-quantile (0.5, 0.99) of the latencies, in ms. */
export function percentile(result: LoadResult, q: number): number {
  const sorted = Float64Array.from(result.latencies).sort();
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** Responses per second with one of `statuses` (all responses when omitted). */
export function perSecond(result: LoadResult, statuses?: readonly number[]): number {
  return count(result, statuses) / result.seconds;
}

export function count(result: LoadResult, statuses?: readonly number[]): number {
  return Object.entries(result.statuses)
    .filter(([code]) => !statuses || statuses.includes(Number(code)))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** Share of responses whose status is not one of `expected`, plus connection errors. */
export function failureRate(result: LoadResult, expected: readonly number[]): number {
  const total = count(result) + result.errors;
  return total === 0 ? 1 : (total - count(result, expected)) / total;
}
