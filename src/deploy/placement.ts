import { runChecked } from '../core/command.ts';
import type { SlotName } from '../slots/sides.ts';

/** One artifact going to one environment, and for slots the slot (and one of its servers) it goes on. */
export interface Placement {
  artifact: string;
  version: string;
  environment: string;
  slot?: SlotName;
  /** One server of the slot, `host:port`. */
  address?: string;
  /** Every server of the slot. */
  addresses?: readonly string[];
}

/**
 * Fills `{artifact}`, `{version}`, `{slot}` and `{address}`. In URLs the artifact is
 * percent-encoded (a digest holds `@` and `:`); in command arguments it goes in as it is, since
 * argv needs no quoting.
 */
export function substitute(text: string, placement: Placement, forUrl = false): string {
  const encode = (value: string) => (forUrl ? encodeURIComponent(value) : value);
  return text
    .replaceAll('{artifact}', encode(placement.artifact))
    .replaceAll('{version}', encode(placement.version))
    .replaceAll('{slot}', placement.slot ?? '')
    .replaceAll('{address}', placement.address ?? '');
}

/** The SHIPGATE_* variables every `run` command gets. */
export function placementEnv(placement: Placement): Record<string, string> {
  return {
    SHIPGATE_ARTIFACT: placement.artifact,
    SHIPGATE_VERSION: placement.version,
    SHIPGATE_ENVIRONMENT: placement.environment,
    ...(placement.slot
      ? {
          SHIPGATE_SLOT: placement.slot,
          SHIPGATE_SLOT_ADDRESS: placement.address ?? '',
          SHIPGATE_SLOT_ADDRESSES: (placement.addresses ?? []).join(','),
        }
      : {}),
  };
}

/** Whether a command or URL names one server (`{address}`), so it runs once per server of the slot. */
export const perServer = (texts: readonly string[]) => texts.some((t) => t.includes('{address}'));

/** The placements to run something for: one per server of the slot when `texts` name `{address}`, else one. */
export function placementsFor(texts: readonly string[], placement: Placement): Placement[] {
  if (!placement.addresses || !perServer(texts)) return [placement];
  return placement.addresses.map((address) => ({ ...placement, address }));
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
