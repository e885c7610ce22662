import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { cancelled } from '../../core/cancel.ts';
import { errorMessage } from '../../core/errors.ts';
import { liveDeployment } from '../../deploy/history.ts';
import { withFileLock } from '../../deploy/lock.ts';
import { substitute, type Placement } from '../../deploy/placement.ts';
import { restoreArtifact, type RestoreRequest, type Restored } from '../../deploy/restore.ts';
import { otherSlot } from '../../deploy/slots.ts';
import { blueGreen, createTarget, recreate, type Phase } from '../../deploy/strategies.ts';
import { phaseSummary } from '../../deploy/summary.ts';
import { createGitHubClient } from '../../github/client.ts';
import { runContext } from '../../github/context.ts';
import { Deployments, type DeploymentRecord } from '../../github/deployments.ts';
import { Outputs, State } from './constants.ts';
import type { PostState } from './safety-net.ts';
import { readDeployInputs } from './inputs.ts';

export async function deployMain(): Promise<void> {
  const inputs = readDeployInputs((name) => core.getInput(name));
  core.setSecret(inputs.token);
  const context = runContext();
  const { environment, artifact, strategy } = inputs;
  const target = createTarget(inputs.target);
  // Read-only: the live slot comes from nginx's config, so a bad file stops us before any record.
  const live = target.type === 'nginx' ? await target.slots.check() : undefined;
  const slot = live && otherSlot(live);
  const placement: Placement = {
    artifact,
    environment,
    ...(slot && target.type === 'nginx' ? { slot, address: target.slots.address(slot) } : {}),
  };
  const environmentUrl = inputs.environmentUrl && substitute(inputs.environmentUrl, placement, true);

  // Two runs against one nginx config on this host must not interleave (see withFileLock).
  const rollout = async () => {
    const deployments = new Deployments(createGitHubClient(inputs.token, context.apiUrl, coreLogger), context);
    const history = await core.group(`Reading the deployments of ${environment}`, () => deployments.history(environment));
    const previous = liveDeployment(history)?.payload.artifact ?? null;
    core.info(previous ? `${previous} is live in ${environment}.` : `No earlier deployment of ${environment}.`);
    const payload = { artifact, previous, ...(slot ? { slot } : {}) };
    const id = await deployments.create({
      environment,
      payload,
      description: `${artifact} (${strategy})`,
      production: inputs.production,
      transient: inputs.transient,
    });
    const saved: PostState = { id, artifact, environmentUrl, context };
    core.saveState(State.Deployment, JSON.stringify(saved));
    core.setOutput(Outputs.DeploymentId, String(id));
    core.setOutput(Outputs.PreviousArtifact, previous ?? '');
    core.setOutput(Outputs.Slot, slot ?? '');
    core.setOutput(Outputs.EnvironmentUrl, environmentUrl ?? '');
    await deployments.setStatus(id, 'in_progress', `Deploying ${artifact} (${strategy})`, environmentUrl);

    const phases: Phase[] = [];
    const checks = { health: inputs.health, smoke: inputs.smoke, signal: cancelled };
    const facts: Array<[string, string]> = [
      ['Environment', environment],
      ['Artifact', artifact],
      ['Previous', previous ?? '(none)'],
      ['Strategy', strategy + (slot ? ` (onto ${slot})` : '')],
      ['Deployment', String(id)],
    ];
    const summarize = async (heading: string) => {
      if (inputs.jobSummary) await core.summary.addRaw(phaseSummary(heading, facts, phases)).write();
    };
    try {
      cancelled.throwIfAborted();
      if (target.type === 'command') await recreate(target.config, placement, checks, phases, coreLogger);
      else await blueGreen(target.slots, { ...placement, slot: slot! }, checks, phases, coreLogger);
    } catch (error) {
      const reason = errorMessage(error);
      core.setOutput(Outputs.Result, 'failure');
      if (cancelled.aborted) {
        // No revert in the seconds before the runner kills us: say what is live, and leave it.
        // Blue-green switches only after its checks, so a cancelled one never switched; recreate's
        // first phase already put the artifact live once it passed.
        const left = target.type === 'command' && phases[0]?.passed ? `${artifact} is live, unchecked` : 'nothing was switched';
        await deployments.setStatus(id, 'failure', `${artifact}: ${reason}; ${left}`, environmentUrl);
        core.saveState(State.Settled, 'true');
        await summarize(`⏹️ Deploy of ${artifact} to ${environment} was cancelled`);
        throw new Error(`Deploy of ${artifact} to ${environment} stopped: ${reason}; ${left}`, { cause: error });
      }
      await deployments.setStatus(id, 'failure', `${artifact} failed: ${reason}`, environmentUrl);
      core.saveState(State.Settled, 'true');
      // The failed deployment goes first in the history: its slot now holds the failed artifact.
      const failed: DeploymentRecord = { id, environment, productionEnvironment: false, createdAt: '', payload, states: ['failure'] };
      const restored = await putPreviousBack(inputs.onFailure === 'revert' ? previous : null, {
        target,
        environment,
        phases,
        health: inputs.health,
        history: [failed, ...history],
        logger: coreLogger,
      });
      await summarize(`❌ Deploy of ${artifact} to ${environment} failed`);
      throw new Error(`Deploy of ${artifact} to ${environment} failed: ${reason}${restored}`, { cause: error });
    }
    await deployments.setStatus(id, 'success', `${artifact} is live`, environmentUrl);
    core.saveState(State.Settled, 'true');
    const retired = await deployments.retireEarlier(history, id);
    if (retired.length) core.info(`Marked earlier deployments ${retired.join(', ')} inactive.`);
    core.setOutput(Outputs.Result, 'success');
    await summarize(`✅ ${artifact} is live in ${environment}`);
    core.info(`${artifact} is live in ${environment}.`);
  };
  await (target.type === 'nginx' ? withFileLock(target.slots.config['config-file'], rollout) : rollout());
}

/**
 * on-failure: revert. Blue-green never switched, so this finds the previous artifact still live;
 * recreate redeploys it. Says in one clause what became of the environment, for the error line.
 */
async function putPreviousBack(previous: string | null, request: Omit<RestoreRequest, 'artifact'>): Promise<string> {
  if (!previous) return '';
  try {
    const restored: Restored = await core.group(`Putting ${previous} back`, () => restoreArtifact({ ...request, artifact: previous }));
    return restored.how === 'already-live' ? `; traffic never left ${previous}` : `; ${previous} was put back (${restored.how})`;
  } catch (error) {
    core.warning(`Could not put ${previous} back: ${errorMessage(error)}`);
    return `; putting ${previous} back failed too: ${errorMessage(error)}`;
  }
}
