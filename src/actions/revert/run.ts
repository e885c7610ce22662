import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { errorMessage } from '../../core/errors.ts';
import { withFileLock } from '../../deploy/lock.ts';
import { restoreArtifact, slotFor, type Restored } from '../../deploy/restore.ts';
import { createTarget, phase, type Phase } from '../../deploy/strategies.ts';
import { phaseSummary } from '../../deploy/summary.ts';
import { createGitHubClient } from '../../github/client.ts';
import { runContext } from '../../github/context.ts';
import { Deployments } from '../../github/deployments.ts';
import { openIssue } from '../../github/issues.ts';
import { planRevert } from '../../revert/plan.ts';
import { gateReadings } from '../../revert/report.ts';
import { createRouter } from '../../routers/index.ts';
import { restoreStable } from '../../routers/restore-stable.ts';
import { Outputs } from './constants.ts';
import { readRevertInputs } from './inputs.ts';

export async function revertMain(): Promise<void> {
  const inputs = readRevertInputs((name) => core.getInput(name));
  core.setSecret(inputs.token);
  const context = runContext();
  const { environment, reason } = inputs;
  const target = inputs.target && createTarget(inputs.target);
  const router = inputs.router && createRouter(inputs.router);
  // Read-only checks first: a target or router we cannot drive stops us before any record.
  if (target?.type === 'nginx') await target.slots.check();
  if (router) await core.group(`Checking ${router.description}`, () => router.check());

  const octokit = createGitHubClient(inputs.token, context.apiUrl, coreLogger);
  const deployments = new Deployments(octokit, context);
  const guard = <T>(fn: () => Promise<T>) => (target?.type === 'nginx' ? withFileLock(target.slots.config['config-file'], fn) : fn());
  const phases: Phase[] = [];

  await guard(async () => {
    const history = await core.group(`Reading the deployments of ${environment}`, () => deployments.history(environment));
    const plan = planRevert(history, inputs.to, environment);
    if (plan.kind === 'impossible') throw new Error(`Nothing was reverted: ${plan.why}.`);
    if (router) {
      // Idempotent, and the fastest relief there is: whatever else happens, stable takes all traffic.
      await phase(phases, coreLogger, 'All traffic to stable', async () => {
        await restoreStable(router, coreLogger);
        return `${router.description}: canary weight 0`;
      });
    }
    if (plan.kind === 'unchanged') {
      core.setOutput(Outputs.Result, 'unchanged');
      core.setOutput(Outputs.Artifact, plan.artifact);
      core.info(`Nothing to revert: ${plan.why}.`);
      if (inputs.jobSummary)
        await core.summary
          .addRaw(
            phaseSummary(
              `↩️ ${environment}: nothing to revert`,
              [
                ['Why', plan.why],
                ['Live', plan.artifact],
              ],
              phases,
            ),
          )
          .write();
      return;
    }

    const { bad, artifact } = plan;
    const from = bad.payload.artifact;
    core.info(`Reverting ${environment} from ${from} (deployment ${bad.id}) to ${artifact}: ${reason}`);
    const slot = target?.type === 'nginx' ? (await slotFor(target.slots, history, artifact)).slot : undefined;
    const id = await deployments.create({
      environment,
      payload: { artifact, previous: from, ...(slot ? { slot } : {}), revert: { from, reason } },
      description: `Revert to ${artifact}: ${reason}`,
      production: bad.productionEnvironment,
      transient: false,
    });
    core.setOutput(Outputs.DeploymentId, String(id));
    await deployments.setStatus(id, 'in_progress', `Reverting from ${from}: ${reason}`);
    let restored: Restored | undefined;
    try {
      if (target)
        restored = await restoreArtifact({ target, artifact, environment, history, health: inputs.health, phases, logger: coreLogger });
    } catch (error) {
      await deployments.setStatus(id, 'failure', `Could not put ${artifact} back: ${errorMessage(error)}`);
      throw new Error(`Reverting ${environment} to ${artifact} failed: ${errorMessage(error)}`, { cause: error });
    }
    // The reverted deployment is marked failure so no later revert treats it as good again.
    if (bad.states[0] !== 'failure' && bad.states[0] !== 'error') {
      await deployments.setStatus(bad.id, 'failure', `Reverted to ${artifact}: ${reason}`);
      bad.states.unshift('failure');
    }
    await deployments.setStatus(id, 'success', `${artifact} is live again`);
    await deployments.retireEarlier(history, id);

    core.setOutput(Outputs.Result, 'reverted');
    core.setOutput(Outputs.Artifact, artifact);
    core.setOutput(Outputs.From, from);
    const how = restored
      ? {
          'already-live': 'it was still live',
          'switched-back': `switched back to the kept ${restored.slot} slot`,
          redeployed: 'redeployed',
        }[restored.how]
      : 'traffic moved to stable';
    const readings = inputs.canaryReport ? gateReadings(inputs.canaryReport) : [];
    const facts: Array<[string, string]> = [
      ['Environment', environment],
      ['From', `${from} (deployment ${bad.id}, now failure)`],
      ['To', `${artifact} (deployment ${id}), ${how}`],
      ['Why', reason],
    ];
    const body =
      phaseSummary(`↩️ ${environment} reverted from ${from} to ${artifact}`, facts, phases) +
      (readings.length ? `\n#### Gate readings\n\n${readings.join('\n')}\n` : '');
    if (inputs.jobSummary) await core.summary.addRaw(body).write();
    core.info(`${environment} is back on ${artifact} (${how}).`);
    if (inputs.openIssue) {
      const url = await openIssue(
        octokit,
        context,
        `Reverted ${environment} from ${from} to ${artifact}`,
        `${body}\nRun: ${context.runUrl}\n`,
        ['shipgate-revert'],
      ).catch((error: unknown) => {
        throw new Error(`${environment} was reverted to ${artifact}, but the issue could not be opened: ${errorMessage(error)}`);
      });
      core.setOutput(Outputs.Issue, url);
      core.info(`Opened ${url}`);
    }
  });
}
