import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { revert, type RevertRequest } from '../../src/revert/revert.ts';
import type { SlotRouting } from '../../src/slots/config.ts';
import type { RouterRecord } from '../../src/slots/record.ts';
import { Slots } from '../../src/slots/slots.ts';
import { FakeGitHub } from '../support/fake-github.ts';
import { FakeRouter } from '../support/fake-router.ts';

const routing = {
  type: 'nginx',
  'config-file': '/x',
  upstream: 'app',
  'reload-command': ['true'],
  blue: ['b1'],
  green: ['g1'],
  run: [process.execPath, '-e', ''],
} as SlotRouting & { run: string[] };
const request: RevertRequest = {
  environment: 'production',
  reason: 'alert',
  to: 'last-success',
  target: routing,
  router: undefined,
  health: undefined,
  request: '77',
};
const v = (n: number) => ({ artifact: `app:v${n}`, version: `v${n}` });

async function world(weights: Record<string, number>, record: RouterRecord) {
  const router = new FakeRouter(weights, join(await mkdtemp(join(tmpdir(), 'shipgate-revert-')), 'router'), record);
  const github = new FakeGitHub();
  github.seed('app:v1', ['inactive', 'success'], { slot: 'green' });
  github.seed('app:v2', ['success'], { slot: 'blue' });
  const order: string[] = [];
  const deps = {
    github,
    logger: silentLogger,
    signal: new AbortController().signal,
    runId: '77',
    onRelief: (what: string) => order.push(`relief: ${what}`),
    onCreated: () => {},
    setOutput: () => {},
    slots: new Slots(routing, silentLogger, router),
  };
  github.fail = (call) => order.push(`github: ${call}`);
  return { router, github, deps, order };
}

describe('revert', () => {
  it('moves traffic to the kept slot before any GitHub call, and says where traffic is when GitHub then fails', async () => {
    const { router, github, deps, order } = await world(
      { b1: 100, g1: 0 },
      { live: 'blue', kept: 'green', slots: { blue: v(2), green: v(1) } },
    );
    github.fail = (call) => {
      order.push(`github: ${call}`);
      throw Object.assign(new Error('GitHub failed to list the deployments of production (500: Server Error)'), { status: 500 });
    };
    await expect(revert(request, deps)).rejects.toThrow(
      'Traffic is on v1 (app:v1) (green); the revert could not finish: GitHub failed to list the deployments of production (500: Server Error)',
    );
    expect(order[0]).toMatch(/^relief: .*all traffic on green, which kept v1/);
    expect(order[1]).toBe('github: history');
    expect(Object.fromEntries(router.weights)).toEqual({ b1: 0, g1: 100 });
    expect(router.recordText).toBe('live=green blue=app:v2 blue-version=v2 green=app:v1 green-version=v1');
  });

  it('stops a ramp in progress: all traffic to the record’s live slot', async () => {
    const { router, deps, order } = await world({ b1: 50, g1: 50 }, { live: 'blue', slots: { blue: v(1), green: v(2) } });
    await revert(request, deps);
    expect(order[0]).toMatch(/^relief: .*all traffic on blue, the known-good slot/);
    expect(Object.fromEntries(router.weights)).toEqual({ b1: 100, g1: 0 });
  });

  it('marks the reverted deployment failure as its first write, then records the revert', async () => {
    const { github, deps } = await world({ b1: 100, g1: 0 }, { live: 'blue', kept: 'green', slots: { blue: v(2), green: v(1) } });
    const outcome = await revert(request, deps);
    expect(outcome.result).toBe('reverted');
    const writes = github.calls.filter((c) => c !== 'history');
    expect(writes[0]).toBe('failure 2: Reverted (request 77) to v1 (app:v1): alert');
    expect(writes[1]).toBe('create 3 v1');
    expect(writes.slice(2, 4)).toEqual(['in_progress 3: Reverting from v2 (app:v2): alert', 'success 3: v1 (app:v1) is live again']);
    expect(github.records.find((r) => r.id === 3)!.payload).toMatchObject({
      strategy: 'revert',
      run: '77',
      revert: { from: 'app:v2', reason: 'alert', run: '77' },
    });
  });
});
