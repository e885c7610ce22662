import { runChecked } from '../core/command.ts';
import type { Slot } from '../github/deployments.ts';

/** One artifact going to one environment, and for blue-green the slot it goes on. */
export interface Placement {
  artifact: string;
  environment: string;
  slot?: Slot;
  /** The slot's host:port. */
  address?: string;
}

/**
 * Fills `{artifact}`, `{slot}` and `{address}`. In URLs the artifact is percent-encoded (a digest
 * holds `@` and `:`); in command arguments it goes in as it is, since argv needs no quoting.
 */
export function substitute(text: string, placement: Placement, forUrl = false): string {
  return text
    .replaceAll('{artifact}', forUrl ? encodeURIComponent(placement.artifact) : placement.artifact)
    .replaceAll('{slot}', placement.slot ?? '')
    .replaceAll('{address}', placement.address ?? '');
}

/** The SHIPGATE_* variables every `run` command gets. */
export function placementEnv(placement: Placement): Record<string, string> {
  return {
    SHIPGATE_ARTIFACT: placement.artifact,
    SHIPGATE_ENVIRONMENT: placement.environment,
    ...(placement.slot ? { SHIPGATE_SLOT: placement.slot, SHIPGATE_SLOT_ADDRESS: placement.address ?? '' } : {}),
  };
}

/** Runs the user's `run` command (argv, no shell) for this placement; throws if it exits non-zero. */
export async function runPut(
  run: readonly string[],
  placement: Placement,
  timeoutMs: number,
  passEnv: readonly string[] = [],
): Promise<void> {
  await runChecked(
    run.map((arg) => substitute(arg, placement)),
    { env: placementEnv(placement), timeoutMs, passEnv },
  );
}
