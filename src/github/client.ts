import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { Logger } from '../core/logger.ts';

const ShipgateOctokit = Octokit.plugin(retry, throttling);

/** A rate limit that resets later than this is reported, not waited for: no step can afford the wait. */
const MAX_RATE_LIMIT_WAIT_S = 10;
export type GitHubClient = InstanceType<typeof ShipgateOctokit>;

/**
 * Octokit for the job's API (GITHUB_API_URL, so GHES works too), retrying 5xx answers and
 * waiting out rate limits twice before giving up. The token never reaches a log: callers mask it.
 */
export function createGitHubClient(token: string, apiUrl: string, logger: Logger): GitHubClient {
  const onLimit =
    (what: string) => (retryAfter: number, options: { method?: string; url?: string }, _octokit: unknown, retryCount: number) => {
      const retrying = retryCount < 2 && retryAfter <= MAX_RATE_LIMIT_WAIT_S;
      logger.warning(
        `GitHub ${what} on ${options.method} ${options.url}; ${retrying ? `retrying in ${retryAfter}s` : `it resets in ${retryAfter}s: not waiting`}.`,
      );
      return retrying;
    };
  return new ShipgateOctokit({
    auth: token,
    baseUrl: apiUrl,
    userAgent: 'shipgate',
    log: {
      debug: (m: string) => logger.debug(m),
      info: (m: string) => logger.debug(m),
      warn: (m: string) => logger.warning(m),
      error: (m: string) => logger.warning(m),
    },
    throttle: { onRateLimit: onLimit('rate limit'), onSecondaryRateLimit: onLimit('secondary rate limit') },
  });
}

/**
 * Turns GitHub's terse 403 ("Resource not accessible by integration") into the line a user needs:
 * which `permissions:` entry the job lacks. Other errors pass through unchanged.
 */
export async function withPermission<T>(permission: string, doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 403 || status === 401) {
      const said = error instanceof Error ? error.message : String(error);
      throw new Error(
        `GitHub refused to ${doing} (${status}: ${said}). The token needs "${permission}": add \`permissions: { ${permission} }\` to the job, or pass a github-token that has it.`,
        { cause: error },
      );
    }
    throw error;
  }
}
