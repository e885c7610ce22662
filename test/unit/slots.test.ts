import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { RouterChangedError } from '../../src/routers/router.ts';
import type { SlotRouting } from '../../src/slots/config.ts';
import { Slots } from '../../src/slots/slots.ts';
import { slotRampRouter } from '../../src/slots/traffic.ts';
import { FakeRouter } from '../support/fake-router.ts';

const routing = {
  type: 'nginx',
  'config-file': '/x',
  upstream: 'app',
  'reload-command': ['true'],
  blue: ['b1', 'b2'],
  green: ['g1', 'g2'],
} as SlotRouting;
const v = (n: number) => ({ artifact: `app:v${n}`, version: `v${n}` });

async function setup(weights: Record<string, number>, record?: ConstructorParameters<typeof FakeRouter>[2]) {
  const router = new FakeRouter(weights, join(await mkdtemp(join(tmpdir(), 'shipgate-slots-')), 'router'), record);
  return { router, slots: new Slots(routing, silentLogger, router) };
}

describe('Slots', () => {
  it('reads the live slot from the weights, and during a split from the record', async () => {
    const { slots, router } = await setup({ b1: 100, b2: 100, g1: 0, g2: 0 });
    expect(await slots.view()).toMatchObject({
      live: 'blue',
      split: false,
      share: { blue: 100, green: 0 },
      addresses: { blue: ['b1', 'b2'] },
    });
    router.meddle({ g1: 25, g2: 25, b1: 75, b2: 75 });
    expect(await slots.view()).toMatchObject({ split: true, share: { blue: 75, green: 25 } });
    expect((await slots.view()).live).toBeUndefined();
    router.meddle({}, { live: 'blue', slots: { blue: v(1), green: v(2) } });
    expect((await slots.view()).live).toBe('blue');
  });

  it('ignores and names a record that contradicts the weights', async () => {
    const { slots } = await setup({ b1: 0, b2: 0, g1: 100, g2: 100 }, { live: 'blue', slots: {} });
    const view = await slots.view();
    expect(view.live).toBe('green');
    expect(view.record).toBeUndefined();
    expect(view.recordProblem).toBe('the record says blue is live, but green carries all traffic');
  });

  it('compares before every write: someone else’s change is never overwritten, unless it is what we want', async () => {
    const { slots, router } = await setup({ b1: 100, b2: 100, g1: 0, g2: 0 }, { live: 'blue', slots: { green: v(2) } });
    await slots.adopt();
    const ramp = slotRampRouter(slots, 'green');
    await ramp.setWeight(25);
    expect(Object.fromEntries(router.weights)).toEqual({ b1: 75, b2: 75, g1: 25, g2: 25 });
    await ramp.verifyUnchanged!();
    // A revert puts everything back on blue.
    router.meddle({ b1: 100, b2: 100, g1: 0, g2: 0 });
    await expect(ramp.verifyUnchanged!()).rejects.toThrow(RouterChangedError);
    const writes = router.writes.length;
    await expect(ramp.setWeight(100)).rejects.toThrow(/changed by someone else \(it now holds blue 100%, green 0%\)/);
    expect(router.writes).toHaveLength(writes);
    // Going back to 0 is what the revert already did: accepted, nothing written.
    await ramp.setWeight(0);
    expect(router.writes).toHaveLength(writes);
  });

  it('promotion makes the canary slot live and keeps the old one, in one write', async () => {
    const { slots, router } = await setup({ b1: 100, b2: 100, g1: 0, g2: 0 }, { live: 'blue', slots: { blue: v(1), green: v(2) } });
    await slots.adopt();
    await slotRampRouter(slots, 'green').setWeight(100);
    expect(router.writes.at(-1)).toEqual({
      weights: new Map([
        ['g1', 100],
        ['g2', 100],
        ['b1', 0],
        ['b2', 0],
      ]),
      record: 'live=green kept=blue blue=app:v1 blue-version=v1 green=app:v2 green-version=v2',
    });
    expect((await slots.view()).live).toBe('green');
  });

  it('fails fast on a second holder of the slots lock, and waits for the router lock', async () => {
    const { slots } = await setup({ b1: 100, b2: 100, g1: 0, g2: 0 });
    let release!: () => void;
    const held = slots.working(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((r) => setTimeout(r, 50));
    await expect(slots.working(async () => 'second')).rejects.toThrow(
      /another Shipgate run \(deploy, canary or revert\) is working on the slots of fake router/,
    );
    // A router write still gets in while the slots are being worked on.
    await slots.change(() => ({ slot: 'blue', percent: 100 }));
    release();
    await held;
  });
});
