import type { Logger } from '../core/logger.ts';
import type { DeploymentRecord, Slot } from '../github/deployments.ts';
import { artifactOnSlot } from './history.ts';
import { type BlueGreenSlots, otherSlot } from './slots.ts';
import { blueGreen, recreate, switchSlot, verify, type Phase, type Target } from './strategies.ts';
import type { HealthConfig } from './checks.ts';

export type RestoreHow = 'already-live' | 'switched-back' | 'redeployed';

export interface RestoreRequest {
  target: Target;
  artifact: string;
  environment: string;
  /** The environment's deployments, newest first: which artifact sits on which slot. */
  history: readonly DeploymentRecord[];
  health?: HealthConfig | undefined;
  phases: Phase[];
  logger: Logger;
}

export interface Restored {
  how: RestoreHow;
  slot?: Slot;
}

/** Where `artifact` will be live after a restore: the live slot if it holds it already, else the idle one. */
export async function slotFor(
  slots: BlueGreenSlots,
  history: readonly DeploymentRecord[],
  artifact: string,
): Promise<{ live: Slot; slot: Slot }> {
  const live = await slots.liveSlot();
  return { live, slot: artifactOnSlot(history, live) === artifact ? live : otherSlot(live) };
}

/**
 * Puts `artifact` back live: the one code path behind `deploy`'s on-failure revert and the
 * `revert` action. Blue-green first looks at what the slots hold: already live means nothing to
 * do; on the kept idle slot (and healthy) means one switch back; otherwise it is redeployed on
 * the idle slot and switched to. A command target redeploys it.
 */
export async function restoreArtifact(request: RestoreRequest): Promise<Restored> {
  const { target, artifact, environment, history, phases, logger } = request;
  const checks = { health: request.health, smoke: [] };
  if (target.type === 'command') {
    await recreate(target.config, { artifact, environment }, checks, phases, logger);
    return { how: 'redeployed' };
  }
  const { slots } = target;
  const { live, slot } = await slotFor(slots, history, artifact);
  if (slot === live) {
    phases.push({
      name: `${artifact} is live`,
      passed: true,
      detail: `${live} (${slots.address(live)}) already serves it; nothing to switch`,
    });
    return { how: 'already-live', slot: live };
  }
  const idle = otherSlot(live);
  const placement = { artifact, environment, slot: idle, address: slots.address(idle) };
  if (artifactOnSlot(history, idle) === artifact) {
    const kept = await verify(checks, placement, phases, logger).then(
      () => true,
      () => false,
    );
    if (kept) {
      await switchSlot(slots, placement, phases, logger);
      return { how: 'switched-back', slot: idle };
    }
    logger.warning(`The kept ${idle} slot is not healthy; putting ${artifact} on it again.`);
  }
  await blueGreen(slots, placement, checks, phases, logger);
  return { how: 'redeployed', slot: idle };
}
