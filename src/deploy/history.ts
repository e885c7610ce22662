import type { DeploymentRecord } from '../github/deployments.ts';
import type { Release } from '../slots/release.ts';
import type { SlotName } from '../slots/sides.ts';
import type { SlotView } from '../slots/slots.ts';

/**
 * Readings of an environment's deployment history (newest first). GitHub marks a deployment
 * `inactive` once a newer one succeeds, so "was good" is read from the whole status history, not
 * the latest state; a deployment a revert has since marked `failure` (or `error`) is not good.
 */
export function wasGood(deployment: DeploymentRecord): boolean {
  return deployment.states.includes('success') && deployment.states[0] !== 'failure' && deployment.states[0] !== 'error';
}

/** Whether the deployment ended badly: failed, errored, or condemned after it succeeded. */
export function failed(deployment: DeploymentRecord): boolean {
  return deployment.states[0] === 'failure' || deployment.states[0] === 'error';
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
export function artifactOnSlot(history: readonly DeploymentRecord[], slot: SlotName): string | undefined {
  return history.find((d) => d.payload.slot === slot)?.payload.artifact;
}

/** Whether the deployment never reached an end state: its runner died, or it is running now. */
export function unfinished(deployment: DeploymentRecord): boolean {
  return deployment.states.length === 0 || ['queued', 'pending', 'in_progress'].includes(deployment.states[0]!);
}

export const releaseOf = (deployment: DeploymentRecord): Release => ({
  artifact: deployment.payload.artifact,
  version: deployment.payload.version,
});

/**
 * The deployment the router shows live that GitHub never heard succeed: its run moved the traffic,
 * then GitHub failed (or the runner died) before the `success` status. The router is the truth;
 * the next run writes the record it could not.
 */
export function unrecordedLive(history: readonly DeploymentRecord[], view: SlotView): DeploymentRecord | undefined {
  if (!view.live || view.split) return undefined;
  const release = view.record?.slots[view.live];
  if (!release) return undefined;
  const newest = history.find((d) => d.payload.artifact === release.artifact && d.payload.slot === view.live);
  return newest && unfinished(newest) && history.slice(0, history.indexOf(newest)).every((d) => !wasGood(d)) ? newest : undefined;
}
