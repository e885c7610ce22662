import type { Octokit as RestOctokit } from '@octokit/rest';
import type { fetch as UndiciFetch, Response } from 'undici';
import { CancelledError, cancelled } from '../core/cancel.ts';
import { formatDuration } from '../core/durations.ts';
import { DeadlineError, describeRequest, dispatcher, loadUndici, parseJson, readBounded, requestSignal, WRAP_UP_MS } from '../core/http.ts';
import type { Logger } from '../core/logger.ts';
import { logText } from '../core/untrusted.ts';
import type { ShipgateOctokit } from './octokit.ts';

export type Octokit = InstanceType<typeof ShipgateOctokit>;
/** Octokit, made on the first call: about 0.2 MB a step that never calls GitHub does not parse. */
export type GitHubClient = () => Promise<Octokit>;

export interface GitHubClientOptions {
  /** Each request must be answered within this (default 20 s); a GET that got no answer is sent once more. */
  timeoutMs?: number;
  /** The longest rate-limit reset worth waiting for, once (default 30 s); a later reset fails at once, naming it. */
  maxRateLimitWaitMs?: number;
  /** 5xx answers and network failures are retried this many times, after 1 s, 4 s… (default 2). */
  retries?: number;
}

/** Deployments, statuses and issues are small; a page of them is far below this. */
const ANSWER_LIMIT = 8 * 1024 * 1024;

/** A GitHub API failure with the request, GitHub's own words (log-safe) and what to do. */
export class GitHubError extends Error {
  readonly status: number | undefined;
  /** GitHub's own message, log-safe, when it answered. */
  readonly said: string | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions & { said?: string }) {
    super(message, options);
    this.name = 'GitHubError';
    this.status = status;
    this.said = options?.said;
  }
}

/** GitHub's rate limit for the token ran out and resets later than the step can wait. */
export class GitHubRateLimitError extends GitHubError {
  /** When GitHub will take requests again. */
  readonly resetAt: Date;
  constructor(message: string, status: number, resetAt: Date, options?: ErrorOptions) {
    super(message, status, options);
    this.name = 'GitHubRateLimitError';
    this.resetAt = resetAt;
  }
}

/**
 * Errors @octokit/request passes through untouched, and that @octokit/plugin-retry therefore does
 * not retry: the deadline, the cancellation and an answer that is not JSON decide for themselves.
 */
function passThrough(cause: unknown): Error {
  const error = new Error(cause instanceof Error ? cause.message : String(cause), { cause });
  error.name = 'AbortError';
  return error;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A caller's own deadline (`AbortSignal.timeout`) ends the call too; its error names the call like ours does. */
function named(reason: unknown, what: string): unknown {
  if ((reason as { name?: string } | undefined)?.name !== 'TimeoutError') return reason;
  return new DeadlineError(`${what} did not finish within the time the step gives it`);
}

/**
 * The fetch Octokit is given: undici's, through the step's one dispatcher (so the runner's proxies
 * apply), each request with its deadline and the run's cancellation, the answer read with a bound
 * and a success checked to be JSON, so "Cannot use 'in' operator" never replaces "GitHub answered
 * an HTML page". A GET (safe to repeat) that got no answer is sent once more; a POST never is,
 * since GitHub may have acted on it.
 */
function githubFetch(timeoutMs: number, logger: Logger): typeof globalThis.fetch {
  const deadlineFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'object' && 'url' in input ? input.url : String(input));
    const method = (init.method ?? 'GET').toUpperCase();
    const what = `GitHub ${describeRequest(method, url)}`;
    for (let attempt = 1; ; attempt++) {
      const { signal, answered, settle } = requestSignal(what, { timeoutMs, ...(init.signal ? { signal: init.signal } : {}) });
      try {
        const { fetch: undiciFetch, Response } = await loadUndici();
        const response = await undiciFetch(url, {
          ...(init as Parameters<typeof UndiciFetch>[1]),
          signal,
          dispatcher: await dispatcher(),
        });
        answered();
        const bytes = response.body ? await readBounded(response.body, ANSWER_LIMIT, `${what}: the answer`) : Buffer.alloc(0);
        if (response.ok && method !== 'HEAD' && !NULL_BODY.has(response.status)) {
          const type = response.headers.get('content-type') ?? '';
          if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) {
            throw new Error(
              `${what} answered ${response.status} with "${logText(type || 'no content type', 60)}", not JSON (it began "${logText(bytes.toString('utf8', 0, 200).trim(), 60)}"); check GITHUB_API_URL and any proxy in between`,
            );
          }
          parseJson(bytes.toString('utf8'), what, 'GitHub API JSON');
        }
        const rebuilt = new Response(NULL_BODY.has(response.status) ? null : bytes, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
        Object.defineProperty(rebuilt, 'url', { value: response.url });
        return rebuilt;
      } catch (error) {
        const reason = signal.aborted ? named(signal.reason, what) : error;
        if (reason instanceof DeadlineError && attempt === 1 && (method === 'GET' || method === 'HEAD') && !cancelled.aborted) {
          logger.info(`${reason.message}; asking once more.`);
          continue;
        }
        throw passThrough(reason);
      } finally {
        settle();
      }
    }
  };
  return deadlineFetch as unknown as typeof globalThis.fetch;
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined || value === null ? undefined : String(value);
}

const clock = (date: Date) => `${date.toISOString().slice(11, 19)} UTC`;

/**
 * One error line for every way a GitHub call fails: cancelled; no answer in time; the token
 * refused (401); the rate limit used up (naming when it resets); anything else with GitHub's own
 * words, log-safe. 403 keeps its status for `withPermission`, which names the missing permission.
 */
function describeError(error: unknown, what: string): unknown {
  if (error instanceof CancelledError || (cancelled.aborted && error === cancelled.reason)) return error;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof CancelledError) return cause;
  if ((error as { name?: string }).name === 'AbortError')
    return new GitHubError(logText(errorText(cause ?? error)), undefined, { cause: error });
  const status = (error as { status?: number }).status;
  const headers = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers;
  const said = logText(errorText(error), 300);
  if (status === 401) {
    return new GitHubError(
      `GitHub refused the token for ${what} (401: ${said}): it is missing, invalid or expired. Pass a valid github-token (the default \${{ github.token }} works while the job runs)`,
      401,
      { cause: error },
    );
  }
  const rateLimited =
    (status === 403 || status === 429) &&
    (header(headers, 'x-ratelimit-remaining') === '0' || header(headers, 'retry-after') !== undefined || /rate limit/i.test(said));
  if (rateLimited) {
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    const retryAfter = Number(header(headers, 'retry-after'));
    const resetAt = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : new Date(Date.now() + (retryAfter || 60) * 1000);
    const wait = Math.max(0, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
    return new GitHubRateLimitError(
      `GitHub refused ${what}: ${/secondary/i.test(said) ? 'a secondary rate limit' : "this token's API rate limit"} holds until ${clock(resetAt)} (in ${formatDuration(wait * 1000)}), longer than this step waits. Run it again after that, or give it a token with its own limit (${status}: ${said})`,
      status!,
      resetAt,
      { cause: error },
    );
  }
  if (status !== undefined) return new GitHubError(`GitHub answered ${status} to ${what}: ${said}`, status, { cause: error, said });
  return error;
}

type Requester = Pick<RestOctokit, 'request'>;
type Endpoint = Parameters<Requester['request']['endpoint']['parse']>[0];

/**
 * `GET /repos/acme/app/deployments`: the route with its parameters filled in; the API's origin is
 * the job's, and the query adds nothing.
 */
function callText(octokit: Requester, endpoint: unknown): string {
  const given = endpoint as { method?: string; url?: string };
  let text = `${given.method ?? ''} ${given.url ?? ''}`;
  try {
    const { method, url } = octokit.request.endpoint.parse(endpoint as Endpoint);
    text = `${method} ${new URL(url, 'https://api.github.invalid').pathname}`;
  } catch {
    // keep it as given
  }
  return logText(text.trim(), 200);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Rejects as soon as `signal` aborts; the abandoned call's own rejection is swallowed. */
function until<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    call.catch(() => {});
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const stop = () => {
      call.catch(() => {});
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/**
 * Octokit for the job's API (GITHUB_API_URL, so GHES works too) on the step's one HTTP stack:
 * every request has a deadline and goes through the runner's proxies; 5xx answers and network
 * failures are retried twice (after 1 s and 4 s); a rate limit is waited out once when it resets
 * within 30 s, and otherwise fails at once with the reset time. On cancellation a call in flight
 * (or waiting to retry) ends at once; a call made after it (the step recording how it ended) has
 * WRAP_UP_MS in all. The token never reaches a log: callers mask it.
 */
export function createGitHubClient(token: string, apiUrl: string, logger: Logger, options: GitHubClientOptions = {}): GitHubClient {
  let made: Promise<Octokit> | undefined;
  return () => (made ??= import('./octokit.ts').then(({ ShipgateOctokit }) => configure(ShipgateOctokit, token, apiUrl, logger, options)));
}

function configure(Client: typeof ShipgateOctokit, token: string, apiUrl: string, logger: Logger, options: GitHubClientOptions): Octokit {
  const maxWaitMs = options.maxRateLimitWaitMs ?? 30_000;
  const onLimit = (what: string) => (retryAfter: number, request: unknown, octokit: Requester, retryCount: number) => {
    const wait = retryCount < 1 && retryAfter * 1000 <= maxWaitMs && !cancelled.aborted;
    if (wait) logger.info(`GitHub ${what} on ${callText(octokit, request)}: waiting ${retryAfter}s, once.`);
    return wait;
  };
  const octokit = new Client({
    auth: token,
    baseUrl: apiUrl,
    userAgent: 'shipgate',
    request: { fetch: githubFetch(options.timeoutMs ?? 20_000, logger) },
    retry: { retries: options.retries ?? 2 },
    log: {
      debug: (m: string) => logger.debug(m),
      info: (m: string) => logger.debug(m),
      warn: (m: string) => logger.warning(logText(m)),
      // plugin-request-log reports every failed request here; the caller decides what a failure means.
      error: (m: string) => logger.debug(m),
    },
    throttle: { onRateLimit: onLimit('rate limit'), onSecondaryRateLimit: onLimit('secondary rate limit') },
  });
  octokit.hook.wrap('request', (request, endpoint) => {
    if (!cancelled.aborted) return until(Promise.resolve(request(endpoint)), cancelled);
    const wrapUp = new AbortController();
    setTimeout(
      () =>
        wrapUp.abort(
          new DeadlineError(`GitHub ${callText(octokit, endpoint)} was not done within ${formatDuration(WRAP_UP_MS)} of the cancellation`),
        ),
      WRAP_UP_MS,
    ).unref();
    return until(Promise.resolve(request(endpoint)), wrapUp.signal);
  });
  octokit.hook.error('request', (error, endpoint) => {
    throw describeError(error, callText(octokit, endpoint));
  });
  return octokit;
}

/**
 * Turns GitHub's terse 403 ("Resource not accessible by integration") into the line a user needs:
 * which `permissions:` entry the job lacks. A refused token (401) and a rate limit already say what
 * they are; other errors pass through unchanged.
 */
export async function withPermission<T>(permission: string, doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 403 && !(error instanceof GitHubRateLimitError)) {
      const said = error instanceof GitHubError && error.said !== undefined ? error.said : logText(errorText(error));
      throw new Error(
        `GitHub refused to ${doing} (403: ${said}). The token needs "${permission}": add \`permissions: { ${permission} }\` to the job, or pass a github-token that has it.`,
        { cause: error },
      );
    }
    throw error;
  }
}
