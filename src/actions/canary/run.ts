import * as core from '@actions/core';
import { runRamp } from '../../canary/ramp.ts';
import { canarySummary } from '../../canary/summary.ts';
import { booleanInput, coreLogger } from '../../core/action.ts';
import { errorMessage } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { Gate } from '../../gates/gate.ts';
import { createMetrics, metricsSecrets } from '../../metrics/index.ts';
import { createRouter, ROUTER_EXAMPLE, routerSchema } from '../../routers/index.ts';
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
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    core.warning(`Received ${signal}: putting all traffic back on stable.`);
    cancel.abort();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

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
    signal: cancel.signal,
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

/**
 * The safety net: when main did not leave traffic settled (the runner killed it, or the router
 * refused to go back), put all traffic on stable.
 */
export async function canaryPost(): Promise<void> {
  const routerInput = core.getState(State.Router);
  if (!routerInput) {
    core.info('The canary never moved traffic; nothing to undo.');
    return;
  }
  if (core.getState(State.Settled) === 'true') {
    core.info('The canary step settled traffic itself; nothing to undo.');
    return;
  }
  const weight = core.getState(State.Weight) || 'unknown';
  const router = createRouter(parseYamlInput(Inputs.Router, routerInput, routerSchema, ROUTER_EXAMPLE));
  core.warning(`The canary step did not finish (last canary weight ${weight}%): putting all traffic back on stable.`);
  try {
    await restoreStable(router, coreLogger);
  } catch (error) {
    throw new Error(`Could not put traffic back on stable via ${router.description}: ${errorMessage(error)}`, { cause: error });
  }
  core.info(`All traffic is back on stable (${router.description}).`);
  await core.summary
    .addRaw(
      `### ↩️ Canary reverted by the post step\nThe canary step did not finish (last weight ${weight}%); all traffic was put back on stable.\n`,
    )
    .write();
}
