import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { runSmokeChecks, waitHealthy, type HealthConfig, type SmokeCheck } from './checks.ts';
import { placementsFor, runPut, type Placement } from './placement.ts';

export type Strategy = 'recreate' | 'blue-green' | 'canary';
export const STRATEGIES: readonly Strategy[] = ['recreate', 'blue-green', 'canary'];

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

/**
 * Health first (nothing else is worth asking an app that is not ready), then every smoke check,
 * on every server of the slot when the URLs name `{address}`.
 */
export async function verify(checks: Checks, placement: Placement, phases: Phase[], logger: Logger): Promise<void> {
  const where = placement.slot ? ` (${placement.slot} slot)` : '';
  checks.signal?.throwIfAborted();
  if (checks.health) {
    const health = checks.health;
    const targets = placementsFor([health.url], placement);
    await phase(phases, logger, `Health${where}`, async () => {
      const answers: string[] = [];
      for (const target of targets) answers.push(await waitHealthy(health, target, checks.signal));
      return answers.join('; ');
    });
  }
  if (checks.smoke.length) {
    await phase(phases, logger, `Smoke checks${where}`, async () => {
      const targets = placementsFor(
        checks.smoke.map((c) => c.url),
        placement,
      );
      const results = [];
      for (const target of targets) results.push(...(await runSmokeChecks(checks.smoke, target, checks.signal)));
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
  // Checked last too, so a run cancelled during its checks never switches.
  checks.signal?.throwIfAborted();
}

/** Puts the artifact where `placement` says with the user's `run`: once per server when it names `{address}`. */
export async function put(
  run: readonly string[],
  timeoutMs: number,
  placement: Placement,
  phases: Phase[],
  logger: Logger,
  passEnv: readonly string[] = [],
): Promise<void> {
  const where = placement.slot ? ` on ${placement.slot}` : ' live';
  await phase(phases, logger, `Put ${placement.version}${where}`, async () => {
    const targets = placementsFor(run, placement);
    for (const target of targets) await runPut(run, target, timeoutMs, passEnv);
    const servers = placement.slot ? ` (${targets.map((t) => t.address ?? (placement.addresses ?? []).join(', ')).join(', ')})` : '';
    return `${run[0]} put ${placement.artifact}${where}${servers}`;
  });
}
