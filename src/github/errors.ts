import { logText } from '../core/untrusted.ts';

/**
 * GitHub's answers as a user needs them: a 401 is a token GitHub does not accept (not a missing
 * permission), a 403 or 429 with `x-ratelimit-remaining: 0` is the rate limit with its reset time,
 * one with `retry-after` the secondary rate limit, any other 403 a missing permission, a 5xx
 * GitHub's own trouble. GitHub's words are untrusted text and shown through logText.
 */
interface GitHubFailure {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

export class GitHubError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitHubError';
    this.status = status;
  }
}

function said(error: GitHubFailure): string {
  const data = error.response?.data as { message?: unknown } | string | undefined;
  // A gateway in front of GitHub answers with an HTML page: its words are not worth the log line.
  if (typeof data === 'string' && /^\s*</.test(data)) return 'an HTML error page';
  const text = typeof data === 'object' && typeof data?.message === 'string' ? data.message : (error.message ?? String(error));
  return logText(text, 200);
}

/** When a rate limit resets, from GitHub's headers; undefined when the answer was not a rate limit. */
export function rateLimit(error: unknown, now = Date.now()): { resetAt: Date; waitSeconds: number; secondary: boolean } | undefined {
  const failure = error as GitHubFailure;
  if (failure.status !== 403 && failure.status !== 429) return undefined;
  const headers = failure.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) {
    return { resetAt: new Date(now + retryAfter * 1000), waitSeconds: retryAfter, secondary: true };
  }
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']) * 1000;
    const resetAt = new Date(Number.isFinite(reset) && reset > 0 ? reset : now + 60_000);
    return { resetAt, waitSeconds: Math.max(0, Math.ceil((resetAt.getTime() - now) / 1000)), secondary: false };
  }
  return undefined;
}

export function describeGitHubError(error: unknown, doing: string, permission: string): string {
  const failure = error as GitHubFailure;
  const status = failure.status;
  const limit = rateLimit(error);
  if (limit) {
    const when = limit.resetAt.toISOString().replace(/\.\d+Z$/, 'Z');
    return `GitHub's ${limit.secondary ? 'secondary ' : ''}rate limit stopped the request to ${doing} (${status}: ${said(failure)}); it resets at ${when} (in ${limit.waitSeconds}s)`;
  }
  if (status === 401)
    return `GitHub did not accept the token to ${doing} (401: ${said(failure)}): it is wrong, expired or revoked; pass a valid github-token`;
  if (status === 403)
    return `GitHub refused to ${doing} (403: ${said(failure)}). The token needs "${permission}": add \`permissions: { ${permission} }\` to the job, or pass a github-token that has it.`;
  if (status !== undefined && status >= 500) return `GitHub failed to ${doing} (${status}: ${said(failure)}); GitHub itself is in trouble`;
  if (status !== undefined) return `GitHub refused to ${doing} (${status}: ${said(failure)})`;
  return `could not reach GitHub to ${doing}: ${logText(failure.message ?? String(error), 200)}`;
}

/** Runs one GitHub call and turns its failure into a GitHubError that says what to do. */
export async function withGitHub<T>(doing: string, permission: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new GitHubError(describeGitHubError(error, doing, permission), (error as GitHubFailure).status, { cause: error });
  }
}
