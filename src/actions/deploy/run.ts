import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { cancelled } from '../../core/cancel.ts';
import { deploy } from '../../deploy/rollout.ts';
import { phaseSummary } from '../../deploy/summary.ts';
import { createGitHubClient } from '../../github/client.ts';
import { runContext } from '../../github/context.ts';
import { Deployments } from '../../github/deployments.ts';
import { State } from './constants.ts';
import { readDeployInputs } from './inputs.ts';
import type { PostState } from './safety-net.ts';

export async function deployMain(): Promise<void> {
  const inputs = readDeployInputs((name) => core.getInput(name));
  core.setSecret(inputs.token);
  const context = runContext();
  const github = new Deployments(createGitHubClient(inputs.token, context.apiUrl, coreLogger), context, coreLogger);
  const release = { artifact: inputs.artifact, version: inputs.version };
  const outcome = await deploy(
    { ...inputs, release },
    {
      github,
      logger: coreLogger,
      signal: cancelled,
      runId: process.env.GITHUB_RUN_ID!,
      setOutput: (name, value) => core.setOutput(name, value),
      onCreated: (id, environmentUrl) => {
        const saved: PostState = { id, release, environmentUrl, context };
        core.saveState(State.Deployment, JSON.stringify(saved));
      },
      onSettled: () => core.saveState(State.Settled, 'true'),
    },
  );
  core.setOutput('result', outcome.result);
  for (const warning of outcome.warnings) core.warning(warning);
  if (inputs.jobSummary) await core.summary.addRaw(phaseSummary(outcome.heading, outcome.facts, outcome.phases)).write();
  if (outcome.error) throw new Error(outcome.error);
  core.info(outcome.heading.replace(/^\S+ /, ''));
}
