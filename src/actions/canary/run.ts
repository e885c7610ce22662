import * as core from '../../core/runner.ts';
import { RECORD_MS, settleDeployment } from '../../canary/records.ts';
import { runCanary } from '../../canary/release.ts';
import { canarySummary } from '../../canary/summary.ts';
import { booleanInput, coreLogger } from '../../core/action.ts';
import { cancelled } from '../../core/cancel.ts';
import { errorMessage } from '../../core/errors.ts';
import { createGitHubClient } from '../../github/client.ts';
import { runContext } from '../../github/context.ts';
import { Deployments } from '../../github/deployments.ts';
import { StatusRecorder } from '../../github/recorder.ts';
import { saveDeployment } from '../../github/saved-deployment.ts';
import { createMetrics, metricsSecrets } from '../../metrics/index.ts';
import { Inputs, Outputs, State } from './constants.ts';
import { readCanaryInputs } from './inputs.ts';

export async function canaryMain(): Promise<void> {
  const inputs = readCanaryInputs((name) => core.getInput(name));
  const failOnRevert = booleanInput(Inputs.FailOnRevert, true);
  const jobSummary = booleanInput(Inputs.JobSummary, true);
  for (const secret of metricsSecrets(inputs.metrics)) core.setSecret(secret);
  if (inputs.token) core.setSecret(inputs.token);

  let github: Deployments | undefined;
  let recorder: StatusRecorder | undefined;
  const id = inputs.deploymentId;
  if (id !== undefined && inputs.token) {
    const context = runContext();
    github = new Deployments(createGitHubClient(inputs.token, context.apiUrl, coreLogger), context, coreLogger);
    recorder = new StatusRecorder(github, coreLogger);
    core.saveState(State.Deployment, saveDeployment({ id, context }));
  }

  let moved = false;
  let restored = false;
  let tookTraffic = false;
  const outcome = await runCanary(
    { steps: inputs.steps, intervalMs: inputs.intervalMs, routing: inputs.router, gate: inputs.gate, inconclusive: inputs.inconclusive },
    {
      logger: coreLogger,
      signal: cancelled,
      metrics: createMetrics(inputs.metrics),
      ...(recorder && id !== undefined ? { records: { progress: (state, description) => recorder.post(id, state, description) } } : {}),
      // From here on traffic may move: the post step needs the router to put it back if main dies.
      onStart: (stable) => {
        moved = true;
        core.saveState(State.Router, core.getInput(Inputs.Router));
        if (stable) core.saveState(State.Stable, stable);
      },
      onRestored: () => (restored = true),
      onWeight: (weight) => {
        if (weight > 0) tookTraffic = true;
        core.saveState(State.Weight, String(weight));
      },
    },
  ).catch(async (error: unknown) => {
    // Refused before this canary took traffic (nothing new on the idle slot, a router it cannot
    // drive, a gate query Prometheus rejects), perhaps after undoing a dead runner's split: a
    // decision too, so the outputs say it; and the deployment it was to report on must not wait forever.
    if (!tookTraffic && (!moved || restored)) {
      if (moved) core.saveState(State.Settled, 'true');
      core.setOutput(Outputs.Result, 'refused');
      core.setOutput(Outputs.Reason, errorMessage(error));
      core.setOutput(Outputs.FinalWeight, '0');
    }
    if (recorder && id !== undefined) {
      recorder.post(id, 'failure', `The canary did not start: ${errorMessage(error)}`);
      await recorder.flush(RECORD_MS);
    }
    throw error;
  });
  const { report } = outcome;
  if (report.result === 'promoted' || report.stableRestored) core.saveState(State.Settled, 'true');

  core.setOutput(Outputs.Result, report.result);
  core.setOutput(Outputs.Reason, report.reason);
  core.setOutput(Outputs.FinalWeight, String(report.finalWeight));
  core.setOutput(Outputs.Report, JSON.stringify(report));

  // Traffic is where it stays: now the record, within a deadline, never the other way round.
  if (recorder && github && id !== undefined) {
    const truth = await settleDeployment(github, recorder, id, outcome, coreLogger);
    if (truth) core.warning(truth);
  }

  if (jobSummary) {
    await core.summary
      .addRaw(
        canarySummary(
          report,
          inputs.gate.map((r) => r.name),
        ),
      )
      .write();
  }
  if (report.result === 'promoted') {
    core.info(`Promoted: ${report.reason}.`);
  } else if (failOnRevert || !report.stableRestored) {
    core.setFailed(`Canary reverted: ${report.reason}`);
  } else {
    core.warning(`Canary reverted: ${report.reason}`);
  }
}
