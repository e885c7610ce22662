/** The two slots of a service behind a router: the new version always goes on the one that serves nothing. */
export type SlotName = 'blue' | 'green';

export const SLOT_NAMES: readonly SlotName[] = ['blue', 'green'];

export const otherSlot = (slot: SlotName): SlotName => (slot === 'blue' ? 'green' : 'blue');

/**
 * One side of a ramp: the servers that make it up (`host:port`, as Prometheus' `instance` label
 * names a scraped server), and the slot they form when the router has slots.
 */
export interface Side {
  slot?: SlotName;
  addresses: readonly string[];
}

/** Who is stable (known good, live before the ramp) and who is the canary, for this run. */
export interface RampSides {
  stable: Side;
  canary: Side;
}
