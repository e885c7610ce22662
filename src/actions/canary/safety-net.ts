import * as core from '../../core/runner.ts';
import { coreLogger } from '../../core/action.ts';
import { errorMessage } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { createRouter, ROUTER_EXAMPLE, routerSchema } from '../../routers/index.ts';
import { restoreStable } from '../../routers/restore-stable.ts';
import { Inputs, State } from './constants.ts';

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
