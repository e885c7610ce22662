import { type Dispatcher, EnvHttpProxyAgent, request } from 'undici';
import { withDeadline } from './cancel.ts';
import { logText } from './untrusted.ts';

/**
 * The one HTTP stack of every action: undici, through HTTP_PROXY / HTTPS_PROXY / NO_PROXY as the
 * runner and @actions/http-client read them, with a deadline on every call and the run's
 * cancellation behind it, so no request can outlive the step.
 */
let shared: Dispatcher | undefined;

export function dispatcher(): Dispatcher {
  shared ??= new EnvHttpProxyAgent({ keepAliveTimeout: 10_000 });
  return shared;
}

export interface HttpOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: Dispatcher.DispatchOptions['body'];
  /** The whole call, answer included, must end within this. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Sends one request; the answer's body is the caller's to read (or dump) within the same deadline. */
export async function send(url: string | URL, options: HttpOptions): Promise<Dispatcher.ResponseData> {
  return request(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    body: options.body ?? null,
    dispatcher: dispatcher(),
    signal: withDeadline(options.timeoutMs, options.signal),
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
}

export class BodyTooLargeError extends Error {
  constructor(what: string, limit: number) {
    super(`${what} is larger than ${Math.round(limit / 1024)} KiB; Shipgate reads at most that much`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads a body into memory, refusing (and closing the stream) past `limit` bytes. */
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
    throw new Error(`${what} did not answer JSON (${expected} expected; it began "${logText(text.trim(), 60)}")`);
  }
}
