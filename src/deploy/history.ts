import type { DeploymentRecord, Slot } from '../github/deployments.ts';

/**
 * Readings of an environment's deployment history (newest first). GitHub marks a deployment
 * `inactive` once a newer one succeeds, so "was good" is read from the whole status history, not
 * the latest state; a deployment a revert has since marked `failure` (or `error`) is not good.
 */
export function wasGood(deployment: DeploymentRecord): boolean {
  return deployment.states.includes('success') && deployment.states[0] !== 'failure' && deployment.states[0] !== 'error';
}

/** The deployment serving the environment now: the newest that is good. */
export function liveDeployment(history: readonly DeploymentRecord[]): DeploymentRecord | undefined {
  return history.find(wasGood);
}

/** The newest good deployment older than `after` whose artifact differs from it. */
export function lastGoodBefore(history: readonly DeploymentRecord[], after: DeploymentRecord): DeploymentRecord | undefined {
  return history.slice(history.indexOf(after) + 1).find((d) => wasGood(d) && d.payload.artifact !== after.payload.artifact);
}

/** What the newest deployment that used `slot` put on it (whatever became of it afterwards). */
export function artifactOnSlot(history: readonly DeploymentRecord[], slot: Slot): string | undefined {
  return history.find((d) => d.payload.slot === slot)?.payload.artifact;
}

/** Whether the deployment never reached an end state: its runner died, or it is running now. */
export function unfinished(deployment: DeploymentRecord): boolean {
  return deployment.states.length === 0 || ['queued', 'pending', 'in_progress'].includes(deployment.states[0]!);
}
