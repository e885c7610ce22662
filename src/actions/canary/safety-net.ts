import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { errorMessage } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { closeSavedDeployment } from '../../github/saved-deployment.ts';
import { createRouter } from '../../routers/index.ts';
import { restoreStable } from '../../routers/restore-stable.ts';
import { isSlotRouting, routingExample, routingSchema } from '../../slots/config.ts';
import { SLOT_NAMES, type SlotName } from '../../slots/sides.ts';
import { Slots } from '../../slots/slots.ts';
import { Inputs, State } from './constants.ts';

/**
 * The safety net: when main did not leave traffic settled (the runner killed it, or the router
 * refused to go back), put all traffic on stable: in slot mode the slot that was live when the
 * ramp started. Then, when the canary reported on a deployment, mark it failed.
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
  const routing = parseYamlInput(Inputs.Router, routerInput, routingSchema, routingExample(Inputs.Router));
  const stable = core.getState(State.Stable) as SlotName;
  core.warning(`The canary step did not finish (last canary weight ${weight}%): putting all traffic back on stable.`);
  let where: string;
  try {
    if (isSlotRouting(routing) && SLOT_NAMES.includes(stable)) {
      const slots = new Slots(routing, coreLogger);
      await slots.change((view) => ({ slot: stable, percent: 100, record: { live: stable, slots: view.record?.slots ?? {} } }));
      where = `${stable} (${slots.description})`;
    } else {
      const router = createRouter(routing, coreLogger);
      await restoreStable(router, coreLogger);
      where = `stable (${router.description})`;
    }
  } catch (error) {
    throw new Error(`Could not put traffic back on stable: ${errorMessage(error)}`, { cause: error });
  }
  core.info(`All traffic is back on ${where}.`);
  const saved = core.getState(State.Deployment);
  if (saved) {
    const token = core.getInput(Inputs.GitHubToken);
    core.setSecret(token);
    const description = `The canary did not finish (last weight ${weight}%); all traffic is back on ${where.split(' ')[0]}`;
    await closeSavedDeployment(saved, token, 'failure', description, coreLogger);
  }
  await core.summary
    .addRaw(
      `### ↩️ Canary reverted by the post step\nThe canary step did not finish (last weight ${weight}%); all traffic was put back on ${where.split(' ')[0]}.\n`,
    )
    .write();
}
