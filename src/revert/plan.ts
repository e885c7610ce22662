import type { DeploymentRecord } from '../github/deployments.ts';
import { failed, lastGoodBefore, liveDeployment, releaseOf, unfinished, wasGood } from '../deploy/history.ts';
import { versionOf, type Release } from '../slots/release.ts';

export type RevertPlan =
  | {
      kind: 'revert';
      /** The deployment being reverted: its release goes, and it is marked failure first. */
      bad: DeploymentRecord;
      good: Release;
      /** This request's own revert deployment, left unfinished by a run that died: it is finished, not repeated. */
      resume?: DeploymentRecord;
    }
  | { kind: 'unchanged'; why: string; release: Release; deployment?: DeploymentRecord }
  | { kind: 'impossible'; why: string };

export interface RevertAsk {
  /** `last-success`, or the release to put back. */
  to: 'last-success' | Release;
  environment: string;
  /** This workflow run: a release it deployed and saw fail is the one it reverts. */
  runId: string;
  /** What makes two reverts the same request: the run id, or an alert's fingerprint. */
  request: string;
}

/**
 * Decides what a revert does from the environment's history (newest first).
 *
 * - The same request again (a re-run of the run, any attempt, or a repeated alert) changes
 *   nothing once it succeeded, and finishes its own unfinished record when it did not.
 * - Otherwise it reverts the release that is live now, or on its way: the newest deployment when
 *   it succeeded or never finished; when the newest failed, it was already taken out, so the
 *   release live now is the newest good one, except in the run that deployed it (whose revert
 *   step is about exactly that release) and when this request's own first write failed it. So a new request right after a revert goes one release
 *   further back, or says why it cannot.
 * - It goes back to the newest earlier deployment that was good with another artifact; what a
 *   revert marked failure is never good again. Another request's revert that never finished is
 *   skipped: it was killed, and whatever it meant to do is decided afresh.
 */
export function planRevert(history: readonly DeploymentRecord[], ask: RevertAsk): RevertPlan {
  const { environment } = ask;
  const mine = history.filter((d) => d.payload.revert?.run === ask.request);
  const done = mine.find(wasGood);
  if (done) {
    return {
      kind: 'unchanged',
      why: `this request (${ask.request}) already reverted ${environment} to ${done.payload.version} (deployment ${done.id})`,
      release: releaseOf(done),
      deployment: done,
    };
  }
  const candidates = history.filter((d) => !(d.payload.revert && unfinished(d)));
  const newest = candidates[0];
  if (!newest) return { kind: 'impossible', why: `${environment} has no Shipgate deployments to revert` };
  const ours = newest.payload.run === ask.runId || newest.failedBy === ask.request;
  const bad = !failed(newest) || ours ? newest : liveDeployment(candidates);
  if (!bad) return { kind: 'impossible', why: `nothing is live in ${environment}: every recorded release failed or was reverted` };
  const resume = mine.find(unfinished);
  if (ask.to !== 'last-success') {
    const to = ask.to;
    if (bad.payload.artifact === to.artifact && wasGood(bad))
      return { kind: 'unchanged', why: `${to.version} is already live (deployment ${bad.id})`, release: to, deployment: bad };
    return { kind: 'revert', bad, good: to, ...(resume ? { resume } : {}) };
  }
  const good = lastGoodBefore(candidates, bad);
  if (!good) {
    return {
      kind: 'impossible',
      why: `${environment} has no successful deployment before ${bad.payload.version} (deployment ${bad.id}) to go back to`,
    };
  }
  return { kind: 'revert', bad, good: releaseOf(good), ...(resume ? { resume } : {}) };
}

/** The release an explicit `to` names: its version from the history when a deployment recorded it. */
export function releaseNamed(history: readonly DeploymentRecord[], artifact: string): Release {
  const known = history.find((d) => d.payload.artifact === artifact);
  return { artifact, version: known?.payload.version ?? versionOf(artifact) };
}
