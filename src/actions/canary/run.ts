import * as core from '../../core/runner.ts';
import { runRamp } from '../../canary/ramp.ts';
import { canarySummary } from '../../canary/summary.ts';
import { booleanInput, coreLogger } from '../../core/action.ts';
import { cancelled } from '../../core/cancel.ts';
import { Gate } from '../../gates/gate.ts';
import { createMetrics, metricsSecrets } from '../../metrics/index.ts';
import { createRouter } from '../../routers/index.ts';
import { restoreStable } from '../../routers/restore-stable.ts';
import { Inputs, Outputs, State } from './constants.ts';
import { readCanaryInputs } from './inputs.ts';

export async function canaryMain(): Promise<void> {
  const inputs = readCanaryInputs((name) => core.getInput(name));
  const failOnRevert = booleanInput(Inputs.FailOnRevert, true);
  const jobSummary = booleanInput(Inputs.JobSummary, true);
  for (const secret of metricsSecrets(inputs.metrics)) core.setSecret(secret);
  const router = createRouter(inputs.router);
  await core.group(`Checking ${router.description}`, () => router.check());

  // From here on traffic may move: the post step needs the router to put it back if main dies.
  core.saveState(State.Router, core.getInput(Inputs.Router));

  // A runner that died mid-ramp leaves a split behind: start from all-stable, and say so.
  const leftover = await router.currentWeight?.();
  if (leftover !== undefined && leftover > 0 && leftover < 100) {
    await core.group('Restoring stable after an unfinished rollout', async () => {
      core.warning(`An earlier run left the canary at ${leftover}%: putting all traffic on stable before starting.`);
      await restoreStable(router, coreLogger);
    });
  }

  const gate = new Gate(inputs.gate, createMetrics(inputs.metrics), inputs.intervalMs);
  const report = await runRamp({
    steps: inputs.steps,
    intervalMs: inputs.intervalMs,
    router,
    gate,
    logger: coreLogger,
    signal: cancelled,
    onWeight: (weight) => core.saveState(State.Weight, String(weight)),
  });
  if (report.result === 'promoted' || report.stableRestored) core.saveState(State.Settled, 'true');

  core.setOutput(Outputs.Result, report.result);
  core.setOutput(Outputs.Reason, report.reason);
  core.setOutput(Outputs.FinalWeight, String(report.finalWeight));
  core.setOutput(Outputs.Report, JSON.stringify(report));
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
