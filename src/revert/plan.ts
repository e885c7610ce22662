import type { DeploymentRecord } from '../github/deployments.ts';
import { lastGoodBefore, liveDeployment, wasGood } from '../deploy/history.ts';

export type RevertPlan =
  | { kind: 'revert'; bad: DeploymentRecord; artifact: string; good: DeploymentRecord | undefined }
  | { kind: 'unchanged'; why: string; artifact: string }
  | { kind: 'impossible'; why: string };

/**
 * Decides what a revert does from the environment's history (newest first), before anything is
 * touched. The newest deployment is the one being reverted, whatever its state: a success a
 * canary or an alert condemned, a failure, or an in-progress one whose runner died. It goes back
 * to the newest earlier deployment that was good with another artifact. A newest deployment that
 * is itself a successful revert means the work is done: a second run changes nothing.
 */
export function planRevert(history: readonly DeploymentRecord[], to: string | 'last-success', environment: string): RevertPlan {
  const newest = history[0];
  if (to !== 'last-success') {
    const live = liveDeployment(history);
    if (live && live === newest && live.payload.artifact === to)
      return { kind: 'unchanged', why: `${to} is already live (deployment ${live.id})`, artifact: to };
    if (!newest) return { kind: 'impossible', why: `${environment} has no Shipgate deployments to revert` };
    return { kind: 'revert', bad: newest, artifact: to, good: history.find((d) => wasGood(d) && d.payload.artifact === to) };
  }
  if (!newest)
    return { kind: 'impossible', why: `${environment} has no Shipgate deployments, so there is no earlier success to go back to` };
  if (newest.payload.revert && wasGood(newest)) {
    return {
      kind: 'unchanged',
      why: `deployment ${newest.id} already reverted ${environment} to ${newest.payload.artifact}`,
      artifact: newest.payload.artifact,
    };
  }
  const good = lastGoodBefore(history, newest);
  if (!good) {
    return {
      kind: 'impossible',
      why: `${environment} has no successful deployment before ${newest.payload.artifact} (deployment ${newest.id}) to go back to`,
    };
  }
  return { kind: 'revert', bad: newest, artifact: good.payload.artifact, good };
}
