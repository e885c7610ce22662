import pRetry from 'p-retry';
import type { Logger } from '../core/logger.ts';
import type { TrafficRouter } from './router.ts';

const ATTEMPTS = 3;

/**
 * Puts all traffic on stable: the one step every failure path relies on, so a transient router
 * error (a reload racing another, a busy socket) is tried again before anyone is told it failed.
 */
export async function restoreStable(router: TrafficRouter, logger: Logger): Promise<void> {
  await pRetry(() => router.setWeight(0), {
    retries: ATTEMPTS - 1,
    minTimeout: 500,
    onFailedAttempt: ({ error, attemptNumber }) =>
      logger.warning(`Putting traffic back on stable failed (attempt ${attemptNumber} of ${ATTEMPTS}): ${error.message}`),
  });
}
