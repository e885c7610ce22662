import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { errorMessage } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { closeSavedDeployment } from '../../github/saved-deployment.ts';
import { createRouter } from '../../routers/index.ts';
import { restoreStable } from '../../routers/restore-stable.ts';
import { describeTraffic } from '../../revert/revert.ts';
import { isFixedRouting, isSlotRouting, routingExample, routingSchema } from '../../slots/config.ts';
import { Slots } from '../../slots/slots.ts';
import { Inputs, State } from './constants.ts';

/**
 * The safety net: when main was killed before it finished, traffic goes to the known-good side
 * again (a split to the record's live slot; the fixed router to stable), and a revert deployment
 * main left in progress (killed, cancelled, or GitHub failing before its last status) is marked
 * error. Running the revert again finishes the work: the reverted release was marked failure first.
 */
export async function revertPost(): Promise<void> {
  if (core.getState(State.Settled) === 'true') {
    core.info('The revert step finished itself; nothing to do.');
    return;
  }
  const routingText = core.getState(State.Routing);
  if (!routingText) {
    core.info('The revert never started; nothing to do.');
    return;
  }
  core.warning('The revert step did not finish: making sure traffic is on the known-good side.');
  const routing = parseYamlInput(Inputs.Target, routingText, routingSchema, routingExample(Inputs.Target));
  let where = 'traffic was left where it was';
  try {
    if (isSlotRouting(routing)) {
      const slots = new Slots(routing, coreLogger);
      const view = await slots.change((v) =>
        v.split && v.live ? { slot: v.live, percent: 100, record: { live: v.live, slots: v.record?.slots ?? {} } } : undefined,
      );
      where = describeTraffic(view);
    } else if (isFixedRouting(routing)) {
      await restoreStable(createRouter(routing, coreLogger), coreLogger);
      where = 'all traffic is on stable';
    }
  } catch (error) {
    core.warning(`Could not check the router: ${errorMessage(error)}`);
  }
  core.info(`${where[0]!.toUpperCase()}${where.slice(1)}.`);
  const saved = core.getState(State.Deployment);
  if (saved) {
    const token = core.getInput(Inputs.GitHubToken);
    core.setSecret(token);
    await closeSavedDeployment(
      saved,
      token,
      'error',
      `The revert did not finish; ${where}. Run it again to finish the record.`,
      coreLogger,
    );
  }
  await core.summary.addRaw(`### ⚠️ The revert did not finish\n${where}. Run the revert again to finish it.\n`).write();
}
