import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { cancelled } from '../../core/cancel.ts';
import { errorMessage } from '../../core/errors.ts';
import { phaseSummary } from '../../deploy/summary.ts';
import { createGitHubClient } from '../../github/client.ts';
import { runContext } from '../../github/context.ts';
import { Deployments } from '../../github/deployments.ts';
import { openIssue } from '../../github/issues.ts';
import { gateReadings } from '../../revert/report.ts';
import { revert, RevertError } from '../../revert/revert.ts';
import { Inputs, Outputs, State } from './constants.ts';
import { readRevertInputs } from './inputs.ts';
import { saveDeployment } from '../../github/saved-deployment.ts';

export async function revertMain(): Promise<void> {
  const context = runContext();
  const inputs = readRevertInputs((name) => core.getInput(name), process.env.GITHUB_RUN_ID!);
  core.setSecret(inputs.token);
  const octokit = createGitHubClient(inputs.token, context.apiUrl, coreLogger);
  const github = new Deployments(octokit, context, coreLogger);
  core.saveState(State.Routing, core.getInput(inputs.target ? Inputs.Target : Inputs.Router));
  let outcome;
  let created = false;
  let recorded = false;
  try {
    outcome = await revert(
      { ...inputs },
      {
        github,
        logger: coreLogger,
        signal: cancelled,
        runId: process.env.GITHUB_RUN_ID!,
        onRelief: (what) => core.info(`Relief: ${what}.`),
        onCreated: (id) => {
          created = true;
          core.saveState(State.Deployment, saveDeployment({ id, context }));
        },
        onRecorded: () => (recorded = true),
        setOutput: (name, value) => core.setOutput(name, value),
      },
    );
  } catch (error) {
    // A revert deployment left in progress (cancelled, or GitHub failed) is the post step's to mark error.
    if (!created || recorded) core.saveState(State.Settled, 'true');
    if (error instanceof RevertError && inputs.jobSummary) {
      await core.summary
        .addRaw(phaseSummary(`❌ ${inputs.environment}: the revert did not finish`, [['Why', error.message]], error.phases))
        .write();
    }
    throw error;
  }
  core.saveState(State.Settled, 'true');
  const readings = inputs.canaryReport ? gateReadings(inputs.canaryReport) : [];
  const body =
    phaseSummary(outcome.heading, outcome.facts, outcome.phases) +
    (readings.length ? `\n#### Gate readings\n\n${readings.join('\n')}\n` : '');
  if (inputs.jobSummary) await core.summary.addRaw(body).write();
  if (outcome.result === 'unchanged') return;
  core.info(outcome.heading.replace(/^\S+ /, ''));
  if (inputs.openIssue && outcome.from && outcome.to) {
    const url = await openIssue(
      octokit,
      context,
      `Reverted ${inputs.environment} from ${outcome.from.version} to ${outcome.to.version}`,
      `${body}\nRun: ${context.runUrl}\n`,
      ['shipgate-revert'],
    ).catch((error: unknown) => {
      throw new Error(
        `${inputs.environment} was reverted to ${outcome.to!.version}, but the issue could not be opened: ${errorMessage(error)}`,
      );
    });
    core.setOutput(Outputs.Issue, url);
    core.info(`Opened ${url}`);
  }
}
