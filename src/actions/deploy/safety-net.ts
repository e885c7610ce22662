import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { markdownText } from '../../core/untrusted.ts';
import { tokenInput } from '../../deploy/inputs.ts';
import { createGitHubClient } from '../../github/client.ts';
import type { RunContext } from '../../github/context.ts';
import { Deployments } from '../../github/deployments.ts';
import { describeRelease, type Release } from '../../slots/release.ts';
import { Inputs, State } from './constants.ts';

/** What the post step needs to settle a deployment main left open; the token is read from the input again. */
export interface PostState {
  id: number;
  release: Release;
  environmentUrl: string | undefined;
  context: RunContext;
}

/**
 * The safety net: when main was killed before it recorded an outcome (SIGKILL, a lost runner, or a
 * cancel whose `run` command outlived the runner's grace period), the deployment would stay
 * `in_progress` forever. GitHub's docs offer `error` beside `failure` without telling them apart;
 * as with commit statuses, `failure` is a verdict on what was deployed and `error` a process that
 * broke before reaching one, which is what happened here.
 */
export async function deployPost(): Promise<void> {
  const saved = core.getState(State.Deployment);
  if (!saved) {
    core.info('No deployment was created; nothing to record.');
    return;
  }
  if (core.getState(State.Settled) === 'true') {
    core.info('The deploy step recorded its outcome itself; nothing to do.');
    return;
  }
  const { id, release, environmentUrl, context } = JSON.parse(saved) as PostState;
  const shown = describeRelease(release);
  const token = tokenInput((name) => core.getInput(name), Inputs.GitHubToken);
  core.setSecret(token);
  const deployments = new Deployments(createGitHubClient(token, context.apiUrl, coreLogger), context, coreLogger);
  const why = 'the run was cancelled or its runner died before the deploy finished';
  core.warning(`Deployment ${id} of ${shown} is unfinished: ${why}. Marking it error.`);
  await deployments.setStatus(id, 'error', `${shown}: ${why}`, environmentUrl);
  await core.summary
    .addRaw(`### ⚠️ Deployment ${id} of ${markdownText(shown)} marked error\nThe deploy step did not finish: ${why}.\n`)
    .write();
}
