import type { Dispatcher, ProxyAgent } from 'undici';
import { cancelled } from './cancel.ts';
import { formatDuration } from './durations.ts';
import { logText } from './untrusted.ts';

/**
 * The one HTTP stack of every action: undici, through the proxies the runner's environment names
 * (read as the runner and @actions/http-client read them), with a deadline on every call and the
 * run's cancellation behind it, so no request can outlive the step.
 */

/** HTTP_PROXY / HTTPS_PROXY / NO_PROXY, lower case first, an empty value counting as unset. */
export interface ProxySettings {
  http: string | undefined;
  https: string | undefined;
  noProxy: string[];
}

export function proxySettings(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const read = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
  const url = (value: string | undefined) => value && (/^https?:\/\//i.test(value) ? value : `http://${value}`);
  return {
    http: url(read('http_proxy')),
    https: url(read('https_proxy')),
    noProxy: (read('no_proxy') ?? '')
      .split(',')
      .map((entry) => entry.trim().toLowerCase())
      .filter(Boolean),
  };
}

/** localhost, 127.0.0.0/8 and ::1 are this machine: a proxy would reach its own loopback instead. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The proxy a request to `url` goes through, or undefined for a direct connection. As
 * @actions/http-client decides it: loopback is never proxied; `https:` URLs use only HTTPS_PROXY and
 * `http:` URLs only HTTP_PROXY; a NO_PROXY entry `*` bypasses every host, `example.com` bypasses it
 * and its subdomains, `.example.com` (or `*.example.com`) its subdomains, `host:port` that port only.
 */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  if (isLoopbackHost(url.hostname)) return undefined;
  const proxy = url.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const candidates = [host, `${host}:${port}`];
  for (const raw of settings.noProxy) {
    const entry = raw.replace(/^\*\./, '.');
    if (entry === '*') return undefined;
    if (candidates.some((c) => c === entry || c.endsWith(entry.startsWith('.') ? entry : `.${entry}`))) return undefined;
  }
  return proxy;
}

const AGENT_OPTIONS = { keepAliveTimeout: 10_000, connectTimeout: 10_000 };

type Undici = typeof import('undici');
let undici: Promise<Undici> | undefined;

/**
 * undici, loaded by the first request rather than when the action starts: it is most of a bundle,
 * and parsing it before the first log line made every action start slower than actions/checkout.
 * ncc puts it in a chunk of its own beside the bundle (`npm run bench -- bundles`).
 */
export function loadUndici(): Promise<Undici> {
  undici ??= import('undici');
  return undici;
}

/** Sends each request straight or through the proxy `proxyFor` picks for its origin. */
function runnerProxyAgent({ Agent, Dispatcher, ProxyAgent }: Undici, settings: ProxySettings): Dispatcher {
  class RunnerProxyAgent extends Dispatcher {
    readonly #settings: ProxySettings;
    readonly #direct = new Agent(AGENT_OPTIONS);
    readonly #proxies = new Map<string, ProxyAgent>();

    constructor(settings: ProxySettings) {
      super();
      this.#settings = settings;
    }

    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const proxy = proxyFor(new URL(String(options.origin)), this.#settings);
      return this.#through(proxy).dispatch(options, handler);
    }

    #through(proxy: string | undefined): Dispatcher {
      if (!proxy) return this.#direct;
      let agent = this.#proxies.get(proxy);
      if (!agent) this.#proxies.set(proxy, (agent = new ProxyAgent({ ...AGENT_OPTIONS, uri: proxy })));
      return agent;
    }

    #all(): Dispatcher[] {
      return [this.#direct, ...this.#proxies.values()];
    }

    override close(): Promise<void>;
    override close(callback: () => void): void;
    override close(callback?: () => void): Promise<void> | void {
      const done = Promise.all(this.#all().map((d) => d.close())).then(() => {});
      if (!callback) return done;
      void done.then(callback);
    }

    override destroy(): Promise<void>;
    override destroy(error: Error | null): Promise<void>;
    override destroy(callback: () => void): void;
    override destroy(error: Error | null, callback: () => void): void;
    override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
      const error = typeof first === 'function' ? null : (first ?? null);
      const callback = typeof first === 'function' ? first : second;
      const done = Promise.all(this.#all().map((d) => d.destroy(error))).then(() => {});
      if (!callback) return done;
      void done.then(callback);
    }
  }
  return new RunnerProxyAgent(settings);
}

let shared: Promise<Dispatcher> | undefined;

/** The dispatcher every request of the step goes through, built from the environment once. */
export function dispatcher(): Promise<Dispatcher> {
  shared ??= loadUndici().then((loaded) => runnerProxyAgent(loaded, proxySettings()));
  return shared;
}

/** A call that did not finish in time: it names the call and the deadline it missed. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/**
 * Once the run is cancelled, a request that starts anyway is the step writing down how it ended
 * (a final deployment status): it gets this long at most, so the step still stops within seconds.
 */
export const WRAP_UP_MS = 5000;

export interface HttpOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: Dispatcher.DispatchOptions['body'];
  /** The whole call, answer included, must end within this (unless `stallMs` is given). */
  timeoutMs: number;
  /**
   * For bulk transfers (blobs): no bound on the total as long as the call makes progress; this long
   * without a byte sent or received, or waiting for the answer, ends it.
   */
  stallMs?: number;
  signal?: AbortSignal;
}

/** What a log or error line calls this request: method, origin and path (no query, which may carry state). */
export function describeRequest(method: string, url: URL): string {
  return `${method} ${logText(`${url.origin}${url.pathname}`, 200)}`;
}

/**
 * A signal for one call: the run's cancellation (unless it already happened), the caller's signal,
 * and a deadline whose reason names the call. `answered` marks the answer's arrival (for the
 * message); `settle` stops the deadline once the call is over. `send` uses it; so does the fetch
 * Octokit is given.
 */
export function requestSignal(
  what: string,
  options: Pick<HttpOptions, 'timeoutMs' | 'stallMs' | 'signal'>,
): { signal: AbortSignal; answered: () => void; settle: () => void } {
  const wrapUp = cancelled.aborted;
  const bulk = options.stallMs !== undefined && !wrapUp;
  const limit = wrapUp ? Math.min(options.timeoutMs, WRAP_UP_MS) : options.timeoutMs;
  const deadline = new AbortController();
  let answered = false;
  const timer = bulk
    ? undefined
    : setTimeout(
        () =>
          deadline.abort(new DeadlineError(`${what} ${answered ? 'did not finish' : 'gave no answer'} within ${formatDuration(limit)}`)),
        limit,
      );
  // A deadline must never keep a finished step's process alive.
  timer?.unref();
  const signals = [deadline.signal, ...(wrapUp ? [] : [cancelled]), ...(options.signal ? [options.signal] : [])];
  return {
    signal: AbortSignal.any(signals),
    answered: () => (answered = true),
    settle: () => clearTimeout(timer),
  };
}

/** undici's own timeouts, the deadline and the cancellation, each as an error that says which call it was. */
function explain(error: unknown, signal: AbortSignal, what: string, options: HttpOptions): unknown {
  if (signal.aborted) return signal.reason;
  const code = (error as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new DeadlineError(`${what} made no progress for ${formatDuration(options.stallMs ?? options.timeoutMs)}`);
  }
  return error;
}

/**
 * Sends one request; the answer's body is the caller's to read (or dump) within the same deadline.
 * Errors are the deadline's (`DeadlineError`), the cancellation's (`CancelledError`) or the
 * network's; no request outlives its deadline or the run.
 */
export async function send(url: string | URL, options: HttpOptions): Promise<Dispatcher.ResponseData> {
  const target = new URL(url);
  const method = options.method ?? 'GET';
  const what = describeRequest(method, target);
  const { signal, answered, settle } = requestSignal(what, options);
  // undici's own idle limits: between chunks either way, and for the answer once the request is sent.
  // Without `stallMs` they sit just past the deadline, whose error names the call.
  const idle = options.stallMs !== undefined && !cancelled.aborted ? options.stallMs : options.timeoutMs + 1000;
  let response: Dispatcher.ResponseData;
  try {
    const { request } = await loadUndici();
    response = await request(target, {
      method,
      headers: options.headers ?? {},
      body: options.body ?? null,
      dispatcher: await dispatcher(),
      signal,
      headersTimeout: idle,
      bodyTimeout: idle,
    });
  } catch (error) {
    settle();
    throw explain(error, signal, what, options);
  }
  answered();
  response.body.once('close', settle);
  response.body.once('error', settle);
  return response;
}

export class BodyTooLargeError extends Error {
  constructor(what: string, limit: number) {
    super(`${what} is larger than ${formatBytes(limit)}; Shipgate reads at most that much`);
    this.name = 'BodyTooLargeError';
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 / 1024).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

/**
 * Reads a body (a Node stream or a web ReadableStream) into memory, refusing past `limit` bytes;
 * leaving the loop early closes the stream, so the rest is never received.
 */
export async function readBounded(
  body: AsyncIterable<Buffer | Uint8Array> & { destroy?: () => void },
  limit: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy?.();
      throw new BodyTooLargeError(what, limit);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Parses JSON from elsewhere with an error that names where it came from and what was expected. */
export function parseJson(text: string, what: string, expected: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const start = text.trim();
    throw new Error(`${what} did not answer JSON (${expected} expected; ${start ? `it began "${logText(start, 60)}"` : 'it was empty'})`);
  }
}
