import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { runSmokeChecks, waitHealthy, type HealthConfig, type SmokeCheck } from './checks.ts';
import { runPut, type Placement } from './placement.ts';
import { BlueGreenSlots } from './slots.ts';
import type { CommandTarget, TargetConfig } from './target.ts';

export type Strategy = 'recreate' | 'blue-green';
export const STRATEGIES: readonly Strategy[] = ['recreate', 'blue-green'];

/** A target ready to drive: the command, or the two slots behind nginx. */
export type Target = { type: 'command'; config: CommandTarget } | { type: 'nginx'; slots: BlueGreenSlots };

export function createTarget(config: TargetConfig): Target {
  return config.type === 'command' ? { type: 'command', config } : { type: 'nginx', slots: new BlueGreenSlots(config) };
}

export interface Checks {
  health?: HealthConfig | undefined;
  smoke: readonly SmokeCheck[];
  /** Aborted when the run is cancelled: polling stops, and nothing is switched after it. */
  signal?: AbortSignal | undefined;
}

/** One line of what happened, for the log and the job summary. */
export interface Phase {
  name: string;
  passed: boolean;
  detail: string;
}

/** Runs `fn` as a named phase: logged in a group, recorded in `phases`, rethrown on failure. */
export async function phase(phases: Phase[], logger: Logger, name: string, fn: () => Promise<string>): Promise<void> {
  await logger.group(name, async () => {
    try {
      const detail = await fn();
      phases.push({ name, passed: true, detail });
      logger.info(detail);
    } catch (error) {
      phases.push({ name, passed: false, detail: errorMessage(error) });
      throw error;
    }
  });
}

/** Health first (nothing else is worth asking an app that is not ready), then every smoke check. */
export async function verify(checks: Checks, placement: Placement, phases: Phase[], logger: Logger): Promise<void> {
  const where = placement.slot ? ` (${placement.slot} slot)` : '';
  checks.signal?.throwIfAborted();
  if (checks.health) {
    const health = checks.health;
    await phase(phases, logger, `Health${where}`, () => waitHealthy(health, placement, checks.signal));
  }
  if (checks.smoke.length) {
    await phase(phases, logger, `Smoke checks${where}`, async () => {
      const results = await runSmokeChecks(checks.smoke, placement, checks.signal);
      checks.signal?.throwIfAborted();
      for (const r of results) logger.info(`${r.passed ? '✓' : '✗'} ${r.name}: ${r.detail}`);
      const failed = results.filter((r) => !r.passed);
      if (failed.length)
        throw new Error(
          `${failed.length} of ${results.length} smoke checks failed: ${failed.map((r) => `${r.name}: ${r.detail}`).join('; ')}`,
        );
      return `${results.length} smoke checks passed`;
    });
  }
  // Checked last too, so a blue-green run cancelled during its checks never switches.
  checks.signal?.throwIfAborted();
}

/** Recreate: the command replaces what runs with the artifact (a big bang), then it is verified. */
export async function recreate(
  target: CommandTarget,
  placement: Placement,
  checks: Checks,
  phases: Phase[],
  logger: Logger,
): Promise<void> {
  await phase(phases, logger, `Put ${placement.artifact} live`, async () => {
    await runPut(target.run, placement, target.timeout, target.env);
    return `${target.run[0]} put ${placement.artifact} live`;
  });
  await verify(checks, placement, phases, logger);
}

/**
 * Blue-green: the artifact goes on the idle slot and is verified there while the live slot keeps
 * all traffic; only then one atomic switch. Any failure before it leaves traffic where it was; the
 * old slot keeps running so a revert is one switch back.
 */
export async function blueGreen(
  slots: BlueGreenSlots,
  placement: Placement & { slot: NonNullable<Placement['slot']> },
  checks: Checks,
  phases: Phase[],
  logger: Logger,
): Promise<void> {
  await phase(phases, logger, `Put ${placement.artifact} on ${placement.slot}`, async () => {
    await runPut(slots.config.run, placement, slots.config.timeout, slots.config.env);
    return `${slots.config.run[0]} put ${placement.artifact} on ${placement.slot} (${placement.address})`;
  });
  await verify(checks, placement, phases, logger);
  await switchSlot(slots, placement, phases, logger);
}

export async function switchSlot(
  slots: BlueGreenSlots,
  placement: Placement & { slot: NonNullable<Placement['slot']> },
  phases: Phase[],
  logger: Logger,
): Promise<void> {
  await phase(phases, logger, `Switch traffic to ${placement.slot}`, async () => {
    await slots.switchTo(placement.slot, placement.artifact);
    return `${slots.description} now routes all traffic to ${placement.slot} (${placement.address})`;
  });
}
