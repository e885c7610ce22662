import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { NginxUpstream } from '../../src/routers/nginx-upstream.ts';
import { type DeployLab, slotCommand, deployLabPerTest, statesOf } from '../support/deploy-lab.ts';
import { trafficStats } from '../support/load.ts';

const startLab = deployLabPerTest();

const now = () => performance.timeOrigin + performance.now();
const health = '{url: "http://{address}/healthz", timeout: 3s, interval: 250ms}';

async function deployBlueGreen(l: DeployLab, artifact: string) {
  const step = await l.run('deploy', {
    environment: 'production',
    production: 'true',
    artifact,
    strategy: 'blue-green',
    target: l.nginxTarget(),
    health,
  });
  expect(step.errors).toEqual([]);
  return step;
}

const revertDeployments = (l: DeployLab) => l.github.deployments.filter((d) => typeof d.payload === 'object' && d.payload.revert);

describe('revert on real nginx and the GitHub double', () => {
  it('switches back to the kept slot under load, records it, opens an issue, and a second run changes nothing', async () => {
    const lab = await startLab('v0');
    await deployBlueGreen(lab, 'v1');
    await deployBlueGreen(lab, 'v2');
    expect(await lab.upstream()).toEqual([lab.blue]);
    const callsBefore = (await lab.calls()).length;
    lab.load.start();
    const started = now();
    const step = await lab.run('revert', {
      environment: 'production',
      reason: 'error rate 4% after the rollout',
      target: lab.nginxTarget(),
      health,
      'open-issue': 'true',
    });
    const reverted = now();
    await new Promise((r) => setTimeout(r, 1000));
    const samples = await lab.load.stop();
    expect(step.errors).toEqual([]);
    expect(step.code).toBe(0);
    expect(step.outputs).toMatchObject({ result: 'reverted', artifact: 'v1', from: 'v2' });

    // v1 is what nginx serves, after one switch back to the kept green slot: no redeploy, no failed request.
    expect(await lab.upstream()).toEqual([lab.green]);
    expect((await lab.calls()).length).toBe(callsBefore);
    const all = trafficStats(samples);
    const after = trafficStats(samples.filter((s) => s.at > reverted + 200));
    expect(all.routingFailures).toBe(0);
    expect(after.byVersion).toEqual({ v1: after.total });
    expect(trafficStats(samples.filter((s) => s.at < started)).byVersion).toEqual({ v2: expect.any(Number) });

    // The record: v2 failed, a new deployment of v1 succeeded, the original v1 stays inactive.
    expect(statesOf(lab.github, 'v2')).toEqual(['in_progress', 'success', 'failure']);
    const [record] = revertDeployments(lab);
    expect(record!.request).toMatchObject({
      environment: 'production',
      production_environment: true,
      required_contexts: [],
      auto_merge: false,
      payload: {
        artifact: 'v1',
        version: 'v1',
        previous: 'v2',
        slot: 'green',
        strategy: 'revert',
        run: '4242',
        revert: { from: 'v2', reason: 'error rate 4% after the rollout', run: '4242' },
      },
    });
    expect(record!.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    const originalV1 = lab.github.deployments.find(
      (d) => typeof d.payload === 'object' && d.payload.artifact === 'v1' && !d.payload.revert,
    )!;
    expect(originalV1.statuses.map((s) => s.state)).toEqual(['in_progress', 'success', 'inactive']);
    expect(step.summary).toContain('production reverted from v2 to v1');
    expect(step.summary).toContain('error rate 4% after the rollout');
    expect(step.summary).toContain('switched back to the kept slot first thing');
    expect(lab.github.issues).toEqual([
      expect.objectContaining({ title: 'Reverted production from v2 to v1', labels: ['shipgate-revert'] }),
    ]);
    expect(lab.github.issues[0]!.body).toContain('error rate 4% after the rollout');
    expect(step.outputs.issue).toBe('https://github.com/shipgate-test/app/issues/1');

    // Idempotent: the second run finds the revert done and touches nothing.
    const statuses = lab.github.deployments.reduce((n, d) => n + d.statuses.length, 0);
    const config = await lab.upstreamText();
    const again = await lab.run('revert', { environment: 'production', reason: 'the same alert, again', target: lab.nginxTarget() });
    expect(again.errors).toEqual([]);
    expect(again.code).toBe(0);
    expect(again.outputs).toMatchObject({ result: 'unchanged', artifact: 'v1' });
    expect(again.stdout).toContain(`Nothing to revert: this request (4242) already reverted production to v1 (deployment ${record!.id}).`);
    expect(revertDeployments(lab)).toHaveLength(1);
    expect(lab.github.deployments.reduce((n, d) => n + d.statuses.length, 0)).toBe(statuses);
    expect(await lab.upstreamText()).toBe(config);
  });

  it('after a failed canary: all traffic to stable via the canary router, the previous version redeployed, gate readings recorded; a missing issues permission is named', async () => {
    const lab = await startLab('v0');
    const target = stringify({ type: 'command', run: slotCommand(lab.dir, lab.modes, lab.green) });
    for (const artifact of ['r1', 'r2']) {
      const step = await lab.run('deploy', { environment: 'production', artifact, target });
      expect(step.errors).toEqual([]);
    }
    // The canary was halfway: blue (stable) and green (the canary, r2) share the traffic.
    const nginxRouter = {
      type: 'nginx',
      'config-file': lab.nginx.upstreamFile,
      upstream: 'app',
      stable: lab.blue,
      canary: lab.green,
      'reload-command': lab.nginx.reloadCommand,
    };
    await new NginxUpstream({
      configFile: lab.nginx.upstreamFile,
      upstream: 'app',
      owned: [lab.blue, lab.green],
      reloadCommand: lab.nginx.reloadCommand,
    }).write(
      new Map([
        [lab.blue, 50],
        [lab.green, 50],
      ]),
      undefined,
    );
    lab.github.denied.add('issues');
    const report = {
      result: 'reverted',
      reason: 'error-rate 0.31 is above 0.02 at 50%',
      finalWeight: 0,
      steps: [{ weight: 50, readings: [{ rule: 'error-rate', status: 'failed', value: 0.31, bound: '≤ 0.02', detail: '0.31 > 0.02' }] }],
    };
    const step = await lab.run('revert', {
      environment: 'production',
      router: stringify(nginxRouter),
      target,
      'canary-report': JSON.stringify(report),
      'open-issue': 'true',
    });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(
      /^production was reverted to r1, but the issue could not be opened: GitHub refused to open an issue \(403.*permissions: \{ issues: write \}/,
    );
    expect(await lab.upstream()).toEqual([lab.blue]);
    expect((await fetch(`http://${lab.green}/`)).headers.get('x-version')).toBe('r1');
    expect(statesOf(lab.github, 'r2')).toEqual(['in_progress', 'success', 'failure']);
    expect(revertDeployments(lab)[0]!.request.payload).toEqual({
      artifact: 'r1',
      version: 'r1',
      previous: 'r2',
      strategy: 'revert',
      run: '4242',
      revert: { from: 'r2', reason: 'canary reverted: error-rate 0.31 is above 0.02 at 50%', run: '4242' },
    });
    expect(step.summary).toContain('| All traffic to stable | ✅ |');
    expect(step.summary).toContain('| error-rate | 50% | 0.31 | ≤ 0.02 | failed: 0.31 &gt; 0.02 |');
  });

  it('finds a deployment whose runner died in progress and puts the last success back', async () => {
    const lab = await startLab('v0');
    await deployBlueGreen(lab, 'v1');
    // A deploy of v2 whose runner died after its in_progress status, before any switch: recorded
    // through the double's API exactly as the deploy action records it.
    const api = (path: string, body: object) =>
      fetch(`${lab!.github.url}/repos/shipgate-test/app${path}`, {
        method: 'POST',
        headers: { authorization: 'token ghs_x', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ id: number }>);
    const { id } = await api('/deployments', {
      ref: 'main',
      environment: 'production',
      payload: { artifact: 'v2', previous: 'v1', slot: 'blue' },
      required_contexts: [],
      auto_merge: false,
      production_environment: true,
    });
    await api(`/deployments/${id}/statuses`, {
      state: 'in_progress',
      log_url: 'https://github.com/shipgate-test/app/actions/runs/4241',
      auto_inactive: false,
    });
    const config = await lab.upstreamText();
    const step = await lab.run('revert', { environment: 'production', reason: 'runner lost mid-rollout', target: lab.nginxTarget() });
    expect(step.errors).toEqual([]);
    expect(step.outputs).toMatchObject({ result: 'reverted', artifact: 'v1', from: 'v2' });
    expect(step.summary).toContain('it was still live');
    expect(await lab.upstreamText()).toBe(config);
    expect(statesOf(lab.github, 'v2')).toEqual(['in_progress', 'failure']);
    expect(revertDeployments(lab)[0]!.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  });
});

describe('revert refuses what it cannot do, changing nothing', () => {
  it('with no earlier success: a clear error', async () => {
    const lab = await startLab('v0');
    await deployBlueGreen(lab, 'v1');
    const config = await lab.upstreamText();
    const deployments = JSON.stringify(lab.github.deployments);
    const step = await lab.run('revert', { environment: 'production', reason: 'alert', target: lab.nginxTarget() });
    expect(step.code).not.toBe(0);
    expect(step.errors).toEqual([
      `Nothing was reverted: production has no successful deployment before v1 (deployment ${lab.github.deployments[0]!.id}) to go back to; traffic is on v1 (green).`,
    ]);
    expect(await lab.upstreamText()).toBe(config);
    expect(JSON.stringify(lab.github.deployments)).toBe(deployments);
  });

  it.each([
    ['environment', { environment: '' }, /^Input "environment": is required/],
    ['target or router', { target: '' }, /^Input "target": is required unless router is given/],
    ['to', { to: 'v1 v2' }, /^Input "to": "v1 v2" is not an artifact/],
    ['canary-report', { 'canary-report': '{not json' }, /^Input "canary-report": is not JSON/],
    ['router', { router: '{type: nginx, upstream: app}' }, /^Input "router": config-file: /],
    ['open-issue', { 'open-issue': 'yes' }, /^Input "open-issue": "yes" is not true or false/],
  ] as Array<[string, Record<string, string>, RegExp]>)('bad %s', async (_name, bad, message) => {
    const lab = await startLab('v0');
    const config = await lab.upstreamText();
    const step = await lab.run('revert', { environment: 'production', target: lab.nginxTarget(), ...bad });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(message);
    expect(lab.github.requests).toEqual([]);
    expect(await lab.upstreamText()).toBe(config);
  });
});
