import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { deploy, type DeployRequest } from '../../src/deploy/rollout.ts';
import type { SlotRouting } from '../../src/slots/config.ts';
import { Slots } from '../../src/slots/slots.ts';
import { FakeGitHub } from '../support/fake-github.ts';
import { FakeRouter } from '../support/fake-router.ts';

const routing = {
  type: 'nginx',
  'config-file': '/x',
  upstream: 'app',
  'reload-command': ['true'],
  blue: ['b1', 'b2'],
  green: ['g1', 'g2'],
  run: [process.execPath, '-e', ''],
} as SlotRouting & { run: string[] };

const request = (strategy: 'canary' | 'blue-green', version = 'v2'): DeployRequest => ({
  environment: 'production',
  release: { artifact: `app:${version}`, version },
  environmentUrl: undefined,
  production: true,
  transient: false,
  strategy,
  target: { kind: 'slots', routing },
  health: undefined,
  smoke: [],
  onFailure: 'revert',
});

async function world(weights: Record<string, number>) {
  const router = new FakeRouter(weights, join(await mkdtemp(join(tmpdir(), 'shipgate-rollout-')), 'router'), {
    live: 'blue',
    kept: 'green',
    slots: { blue: { artifact: 'app:v1', version: 'v1' }, green: { artifact: 'app:v0', version: 'v0' } },
  });
  const github = new FakeGitHub();
  github.seed('app:v1', ['success'], { slot: 'blue' });
  const outputs: Record<string, string> = {};
  const deps = {
    github,
    logger: silentLogger,
    signal: new AbortController().signal,
    runId: '42',
    onCreated: () => {},
    onSettled: () => {},
    setOutput: (name: string, value: string) => (outputs[name] = value),
    slots: new Slots(routing, silentLogger, router),
  };
  return { router, github, outputs, deps };
}

describe('deploy onto slots', () => {
  it('strategy canary: the idle slot gets the release, traffic does not move, the deployment waits for the canary', async () => {
    const { router, github, outputs, deps } = await world({ b1: 100, b2: 100, g1: 0, g2: 0 });
    const outcome = await deploy(request('canary'), deps);
    expect(outcome).toMatchObject({ result: 'staged', warnings: [] });
    expect(outputs).toMatchObject({ slot: 'green', version: 'v2', 'previous-artifact': 'app:v1' });
    expect(Object.fromEntries(router.weights)).toEqual({ b1: 100, b2: 100, g1: 0, g2: 0 });
    // The record no longer says green keeps v0: it holds v2 now.
    expect(router.recordText).toBe('live=blue blue=app:v1 blue-version=v1 green=app:v2 green-version=v2');
    expect(github.calls.slice(1)).toEqual([
      'create 2 v2',
      'in_progress 2: Deploying v2 (app:v2) (canary) onto green',
      'in_progress 2: v2 (app:v2) is on green, checked: waiting for the canary',
    ]);
  });

  it('refuses a slot that carries traffic, before any GitHub call', async () => {
    const { github, deps } = await world({ b1: 75, b2: 75, g1: 25, g2: 25 });
    await expect(deploy(request('canary'), deps)).rejects.toThrow(
      /splits traffic \(blue 75%, green 25%\) \(blue is the known-good slot\): a canary is ramping/,
    );
    expect(github.calls).toEqual([]);
  });

  it('blue-green switches after its checks, keeping the old slot; a GitHub failure after the switch is a warning that says where traffic is', async () => {
    const { router, github, deps } = await world({ b1: 100, b2: 100, g1: 0, g2: 0 });
    github.fail = (call) => {
      if (call.startsWith('success'))
        throw Object.assign(new Error('GitHub failed to set deployment 2 to success (502: an HTML error page)'), { status: 502 });
    };
    const outcome = await deploy(request('blue-green'), deps);
    expect(outcome.result).toBe('success');
    expect(outcome.warnings).toEqual([
      'traffic is on v2 (app:v2); the GitHub record could not be written (GitHub failed to set deployment 2 to success (502: an HTML error page)). The next Shipgate run records it from the router.',
    ]);
    expect(Object.fromEntries(router.weights)).toEqual({ b1: 0, b2: 0, g1: 100, g2: 100 });
    expect(router.recordText).toBe('live=green kept=blue blue=app:v1 blue-version=v1 green=app:v2 green-version=v2');
  });

  it('blue-green switches nothing when the router changed while the release was checked', async () => {
    const { router, deps } = await world({ b1: 100, b2: 100, g1: 0, g2: 0 });
    const slow = { ...routing, run: [process.execPath, '-e', 'setTimeout(() => {}, 300)'] };
    const pending = deploy({ ...request('blue-green'), target: { kind: 'slots', routing: slow } }, deps);
    await new Promise((r) => setTimeout(r, 150));
    router.meddle({}, { live: 'blue', slots: {} });
    const outcome = await pending;
    expect(outcome.result).toBe('failure');
    expect(outcome.error).toMatch(/changed by someone else.*traffic never left v1 \(app:v1\)/);
    expect(Object.fromEntries(router.weights)).toEqual({ b1: 100, b2: 100, g1: 0, g2: 0 });
  });
});
