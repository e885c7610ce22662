import { describe, expect, it } from 'vitest';
import { type DeployLab, deployLabPerTest, statesOf } from '../support/deploy-lab.ts';
import { trafficStats } from '../support/load.ts';

const startLab = deployLabPerTest();

const now = () => performance.timeOrigin + performance.now();

function blueGreenInputs(l: DeployLab, artifact: string, extra: Record<string, string> = {}) {
  return {
    environment: 'production',
    production: 'true',
    artifact,
    strategy: 'blue-green',
    target: l.nginxTarget(),
    health: '{url: "http://{address}/healthz", timeout: 3s, interval: 250ms}',
    smoke: '[{name: version, url: "http://{address}/", body-contains: "{artifact}", max-latency: 1s}]',
    'environment-url': 'https://app.example.com/?v={artifact}',
    ...extra,
  };
}

describe('deploy blue-green on real nginx under load', () => {
  it('switches twice with zero failed requests, records the deployments and retires production ones itself', async () => {
    const lab = await startLab('v0');
    lab.load.start();
    const first = await lab.run('deploy', blueGreenInputs(lab, 'v1'));
    expect(first.errors).toEqual([]);
    expect(first.code).toBe(0);
    expect(first.outputs.slot).toBe('green');
    expect(await lab.upstream()).toEqual([lab.green]);
    const secondStarted = now();
    const second = await lab.run('deploy', blueGreenInputs(lab, 'v2'));
    const switched = now();
    expect(second.errors).toEqual([]);
    expect(second.code).toBe(0);
    expect(second.outputs).toMatchObject({
      result: 'success',
      slot: 'blue',
      'previous-artifact': 'v1',
      'environment-url': 'https://app.example.com/?v=v2',
    });
    await new Promise((r) => setTimeout(r, 1000));
    const samples = await lab.load.stop();
    const all = trafficStats(samples);
    const during = trafficStats(samples.filter((s) => s.at >= secondStarted && s.at <= switched));
    const after = trafficStats(samples.filter((s) => s.at > switched + 200));
    // Zero failed requests across two switches under 100 requests a second.
    expect(all.routingFailures).toBe(0);
    expect(all.appErrors).toBe(0);
    expect(all.total).toBeGreaterThan(200);
    expect(Object.keys(during.byVersion).sort()).toEqual(['v1', 'v2']);
    expect(after.byVersion).toEqual({ v2: after.total });
    expect(await lab.upstream()).toEqual([lab.blue]);

    // The GitHub record: payload, statuses, and v1 (a production deployment) retired by the action.
    const v2 = lab.github.deploymentOf('v2');
    expect(v2.request).toMatchObject({
      ref: lab.github.env().GITHUB_SHA,
      environment: 'production',
      required_contexts: [],
      auto_merge: false,
      production_environment: true,
      transient_environment: false,
      payload: { artifact: 'v2', version: 'v2', previous: 'v1', slot: 'blue', strategy: 'blue-green', run: '4242' },
    });
    expect(v2.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(v2.statuses.every((s) => s.log_url === 'https://github.com/shipgate-test/app/actions/runs/4242/attempts/1')).toBe(true);
    expect(v2.statuses.at(-1)!.environment_url).toBe('https://app.example.com/?v=v2');
    expect(statesOf(lab.github, 'v1')).toEqual(['in_progress', 'success', 'inactive']);
    expect(lab.github.deploymentOf('v1').request.payload).toEqual({
      artifact: 'v1',
      version: 'v1',
      previous: null,
      slot: 'green',
      strategy: 'blue-green',
      run: '4242',
    });
    // The router record: green live, blue kept running v0... which no deployment recorded, so only v2 and v1 are named.
    expect(await lab.upstreamText()).toContain('# shipgate: live=blue kept=green blue=v2 blue-version=v2 green=v1 green-version=v1\n');

    // The run command got the SHIPGATE_* variables and the substituted arguments.
    const calls = (await lab.calls()).slice(1);
    expect(calls).toEqual([
      {
        address: lab.green,
        version: 'v1',
        mode: 'healthy',
        env: {
          SHIPGATE_ARTIFACT: 'v1',
          SHIPGATE_VERSION: 'v1',
          SHIPGATE_ENVIRONMENT: 'production',
          SHIPGATE_SLOT: 'green',
          SHIPGATE_SLOT_ADDRESS: lab.green,
          SHIPGATE_SLOT_ADDRESSES: lab.green,
        },
      },
      {
        address: lab.blue,
        version: 'v2',
        mode: 'healthy',
        env: {
          SHIPGATE_ARTIFACT: 'v2',
          SHIPGATE_VERSION: 'v2',
          SHIPGATE_ENVIRONMENT: 'production',
          SHIPGATE_SLOT: 'blue',
          SHIPGATE_SLOT_ADDRESS: lab.blue,
          SHIPGATE_SLOT_ADDRESSES: lab.blue,
        },
      },
    ]);
    expect(second.summary).toContain('v2 is live in production');
    // The token appears once, in the line that tells the runner to mask it, and nowhere else.
    expect(second.stdout.split('\n').filter((l) => l.includes('ghs_doubletoken'))).toEqual([
      '::add-mask::ghs_doubletoken000000000000000000000000',
    ]);
  });

  it('never switches to a version that is never ready or fails its smoke check: deployment failure, traffic stays on the old slot', async () => {
    const lab = await startLab('v0');
    lab.modes.v2 = 'unready';
    lab.modes.v3 = 'crash';
    const good = await lab.run('deploy', blueGreenInputs(lab, 'v1'));
    expect(good.code).toBe(0);
    const before = await lab.upstreamText();
    lab.load.start();
    const unready = await lab.run('deploy', blueGreenInputs(lab, 'v2'));
    const broken = await lab.run('deploy', blueGreenInputs(lab, 'v3'));
    const samples = await lab.load.stop();

    expect(unready.code).not.toBe(0);
    expect(unready.errors).toHaveLength(1);
    expect(unready.errors[0]).toMatch(
      /Deploy of v2 to production failed: http:\/\/127\.0\.0\.1:\d+\/healthz was not healthy within 3s \(expected 200, last .+\); traffic never left v1$/,
    );
    expect(broken.code).not.toBe(0);
    expect(broken.errors).toHaveLength(1);
    expect(broken.errors[0]).toMatch(
      /Deploy of v3 to production failed: 1 of 1 smoke checks failed: version: status 500.*traffic never left v1/,
    );

    // Traffic never left v1's slot: only the record changed (blue now holds the failed v3, so nothing is kept), and every request got v1.
    expect(await lab.upstreamText()).toBe(
      before.replace(/# shipgate: .*\n/, '# shipgate: live=green blue=v3 blue-version=v3 green=v1 green-version=v1\n'),
    );
    const stats = trafficStats(samples);
    expect(stats.byVersion).toEqual({ v1: stats.total });
    expect(stats.routingFailures).toBe(0);
    expect(statesOf(lab.github, 'v2')).toEqual(['in_progress', 'failure']);
    expect(statesOf(lab.github, 'v3')).toEqual(['in_progress', 'failure']);
    expect(statesOf(lab.github, 'v1')).toEqual(['in_progress', 'success']);
    expect(broken.outputs.result).toBe('failure');
    expect(broken.summary).toContain('❌');
  });
});
