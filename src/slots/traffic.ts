import type { Logger } from '../core/logger.ts';
import type { TrafficRouter } from '../routers/router.ts';
import type { FixedRouting } from './config.ts';
import type { RouterRecord } from './record.ts';
import { otherSlot, type SlotName } from './sides.ts';
import { Slots } from './slots.ts';

/**
 * The canary's router over slots: the live slot is stable, the idle one the canary. Promotion
 * (100%) makes the canary slot live in the same write that moves the last traffic, and records
 * the old slot as kept: still running the previous version, one switch away.
 */
export function slotRampRouter(slots: Slots, canary: SlotName): TrafficRouter {
  const stable = otherSlot(canary);
  return {
    description: slots.description,
    async check() {},
    async setWeight(weight) {
      await slots.change((view) => {
        const record: RouterRecord = {
          live: weight === 100 ? canary : stable,
          ...(weight === 100 ? { kept: stable } : {}),
          slots: view.record?.slots ?? {},
        };
        return { slot: canary, percent: weight, record };
      });
    },
    async currentWeight() {
      return (await slots.view()).share[canary];
    },
    verifyUnchanged: () => slots.verifyUnchanged(),
  };
}

/**
 * The canary's fixed form: the same `stable` and `canary` servers every release, no record. It
 * still edits only its servers' weights and compares before every write.
 */
export function fixedRouter(routing: FixedRouting, logger: Logger): TrafficRouter & { slots: Slots } {
  const slots = new Slots({ ...routing, blue: routing.stable, green: routing.canary }, logger);
  return {
    slots,
    description: slots.description,
    async check() {
      await slots.router.check(
        'router',
        'router: "{type: nginx, config-file: …, upstream: app, stable: 10.0.0.5:8080, canary: 10.0.0.6:8080}"',
      );
      await slots.adopt();
    },
    async setWeight(weight) {
      await slots.change(() => ({ slot: 'green', percent: weight }));
    },
    async currentWeight() {
      return (await slots.view()).share.green;
    },
    verifyUnchanged: () => slots.verifyUnchanged(),
  };
}
