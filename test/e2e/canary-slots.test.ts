import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { parseYamlInput } from '../../src/core/yaml-input.ts';
import { routingSchema, type SlotRouting } from '../../src/slots/config.ts';
import { Slots } from '../../src/slots/slots.ts';
import { trafficStats } from '../support/load.ts';
import { releaseLabPerTest, type ReleaseLab } from '../support/release-lab.ts';

/**
 * The canary in slot mode, beyond the happy path: a split a dead runner left goes back to the
 * slot the router record calls known good; a canary with nothing new on the idle slot refuses;
 * a canary killed mid-ramp is settled by its post step on the slot that was stable.
 */
const startLab = releaseLabPerTest();

const health = '{url: "http://{address}/healthz", timeout: 5s, interval: 200ms}';
const canaryInputs = (l: ReleaseLab, id: string, steps = '50%:2s, 100%') => ({
  'deployment-id': id,
  steps,
  interval: '1s',
  router: l.routing(),
  metrics: stringify({ type: 'prometheus', address: l.prometheus.url }),
  gate: stringify([{ name: 'scraped', query: 'sum(up)', min: 1 }]),
});

async function stage(l: ReleaseLab, artifact: string, runId: string) {
  const step = await l.run(
    'deploy',
    'main',
    { environment: 'production', production: 'true', artifact, strategy: 'canary', target: l.routing(), health },
    { runId },
  );
  expect(step.outputs.result).toBe('staged');
  return step.outputs['deployment-id']!;
}

const slotsOf = (l: ReleaseLab) => new Slots(parseYamlInput('router', l.routing(), routingSchema, '') as SlotRouting, silentLogger);

describe('the canary on slots', () => {
  it('a release staged and never ramped is marked inactive once the next one takes its slot', async () => {
    const lab = await startLab('nginx', 'v0');
    const first = await stage(lab, 'v1', '9601');
    const second = await stage(lab, 'v2', '9602');
    const v1 = lab.github.deploymentOf('v1', 'production');
    expect(v1.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress', 'inactive']);
    expect(v1.statuses.at(-1)!.description).toMatch(/^v1 never went live: v2 replaced it on (blue|green)$/);
    expect(first).not.toBe(second);
    const canary = await lab.run('canary', 'main', canaryInputs(lab, second), { runId: '9602' });
    expect(canary.outputs.result).toBe('promoted');
    expect(lab.github.deploymentOf('v2', 'production').statuses.at(-1)!.state).toBe('success');
    // The retired one stays retired: nothing reads it as live or good.
    expect(lab.github.deploymentOf('v1', 'production').statuses.at(-1)!.state).toBe('inactive');
  });

  it('a split a dead runner left goes back to the known-good slot before the ramp; a canary with nothing new refuses', async () => {
    const lab = await startLab('nginx', 'v0');
    const id = await stage(lab, 'v1', '9701');
    // As a runner killed at 30% would have left it: the record still says blue is known good.
    await slotsOf(lab).change((v) => ({ slot: 'green', percent: 30, record: v.record! }));
    lab.load.start();
    const canary = await lab.run('canary', 'main', canaryInputs(lab, id), { runId: '9701' });
    expect(canary.errors).toEqual([]);
    expect(canary.warnings[0]).toBe('An earlier run left green at 30%: putting all traffic on blue, the known-good slot, before starting.');
    expect(canary.outputs.result).toBe('promoted');
    expect((await slotsOf(lab).view()).record).toMatchObject({ live: 'green', kept: 'blue' });

    // Nothing new on blue (it kept v0, live before v1): a second canary refuses, and says so on its deployment.
    const again = await lab.run('canary', 'main', canaryInputs(lab, id), { runId: '9702' });
    expect(again.errors).toHaveLength(1);
    expect(again.errors[0]).toMatch(
      /^Nothing new to ramp: blue still holds the release that was live before v1\. Deploy the new version with strategy: canary first; traffic stays on green$/,
    );
    const samples = await lab.load.stop();
    expect(trafficStats(samples).routingFailures).toBe(0);
    expect(trafficStats(samples.slice(-30)).byVersion).toEqual({ v1: 30 });
    const statuses = lab.github.deployments.find((d) => d.id === Number(id))!.statuses;
    expect(statuses.at(-1)).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^The canary did not start: Nothing new to ramp/),
    });
  });

  it('refused after undoing a dead runner’s split: result refused, all traffic on the known-good slot, nothing left for the post step', async () => {
    const lab = await startLab('nginx', 'v0');
    const id = await stage(lab, 'v1', '9711');
    await slotsOf(lab).change((v) => ({ slot: 'green', percent: 30, record: v.record! }));
    lab.load.start();
    const inputs = { ...canaryInputs(lab, id), gate: stringify([{ name: 'scraped', query: 'sum(up', min: 1 }]) };
    const canary = await lab.run('canary', 'main', inputs, { runId: '9711' });
    const ended = performance.timeOrigin + performance.now();
    expect(canary.warnings[0]).toBe('An earlier run left green at 30%: putting all traffic on blue, the known-good slot, before starting.');
    expect(canary.errors).toHaveLength(1);
    expect(canary.outputs).toMatchObject({ result: 'refused', 'final-weight': '0' });
    expect(canary.outputs.reason).toContain('scraped');
    expect(await slotsOf(lab).view()).toMatchObject({ split: false, live: 'blue', share: { blue: 100, green: 0 } });
    const post = await lab.run('canary', 'post', inputs, { runId: '9711', state: canary.state });
    expect(post.errors).toEqual([]);
    expect(post.warnings).toEqual([]);
    await sleep(500);
    const samples = await lab.load.stop();
    const after = trafficStats(samples.filter((s) => s.at > ended));
    expect(after.total).toBeGreaterThan(20);
    expect(after.byVersion).toEqual({ v0: after.total });
    expect(trafficStats(samples).routingFailures).toBe(0);
    expect(lab.github.deployments.find((d) => d.id === Number(id))!.statuses.at(-1)).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^The canary did not start: /),
    });
  });

  it('killed mid-ramp, its post step puts all traffic on the slot that was stable and marks the deployment failed', async () => {
    const lab = await startLab('nginx', 'v0');
    const deploymentId = await stage(lab, 'v1', '9803');
    lab.load.start();
    const main = await lab.run('canary', 'main', canaryInputs(lab, deploymentId, '50%:30s, 100%'), { runId: '9803', killAfterMs: 4000 });
    expect(main.signal).toBe('SIGKILL');
    await sleep(300);
    expect((await slotsOf(lab).view()).split).toBe(true);
    const post = await lab.run('canary', 'post', canaryInputs(lab, deploymentId), { runId: '9803', state: main.state });
    expect(post.errors).toEqual([]);
    await sleep(500);
    const samples = await lab.load.stop();
    const view = await slotsOf(lab).view();
    expect(view).toMatchObject({ split: false, live: 'blue', share: { blue: 100, green: 0 } });
    expect(trafficStats(samples.slice(-20)).byVersion).toEqual({ v0: 20 });
    expect(trafficStats(samples).routingFailures).toBe(0);
    expect(lab.github.deployments.find((d) => d.id === Number(deploymentId))!.statuses.at(-1)).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^The canary did not finish \(last weight 50%\); all traffic is back on blue/),
    });
    expect(await readFile(lab.nginx!.upstreamFile, 'utf8')).toContain('# shipgate: live=blue ');
  });
});
