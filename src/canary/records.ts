import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Deployments } from '../github/deployments.ts';
import type { StatusRecorder } from '../github/recorder.ts';
import { finalDescription, type CanaryOutcome } from './release.ts';

/** How long the statuses that end the canary may take, once traffic is where it stays. */
export const RECORD_MS = 20_000;

/**
 * The canary's last word on its deployment, written after traffic is where it stays: `success`
 * and earlier deployments `inactive` when promoted, `failure` with the reason when reverted.
 * Returns the warning that says what is true when GitHub did not take it.
 */
export async function settleDeployment(
  github: Pick<Deployments, 'get' | 'history' | 'retireEarlier'>,
  recorder: StatusRecorder,
  id: number,
  outcome: CanaryOutcome,
  logger: Logger,
): Promise<string | undefined> {
  const promoted = outcome.report.result === 'promoted';
  recorder.post(id, promoted ? 'success' : 'failure', finalDescription(outcome));
  const recorded = await recorder.flush(RECORD_MS);
  if (promoted && recorded) {
    try {
      const deployment = await github.get(id, { signal: AbortSignal.timeout(RECORD_MS) });
      if (deployment) {
        const history = await github.history(deployment.environment, { signal: AbortSignal.timeout(RECORD_MS) });
        const retired = await github.retireEarlier(history, id, { signal: AbortSignal.timeout(RECORD_MS) });
        if (retired.length) logger.info(`Marked earlier deployments ${retired.join(', ')} inactive.`);
      }
    } catch (error) {
      logger.warning(`Earlier deployments could not be marked inactive: ${errorMessage(error)}`);
    }
  }
  if (!recorder.failures.length) return undefined;
  const where = promoted ? `traffic is on the canary${outcome.canary ? ` (${outcome.canary.version})` : ''}` : 'traffic is on stable';
  return `${where}; deployment ${id} could not be updated (${recorder.failures.join(', ')}). The next Shipgate run records it from the router.`;
}
