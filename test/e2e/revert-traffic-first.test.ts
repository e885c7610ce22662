import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { FaultKind } from '../support/github-double.ts';
import { trafficStats, type Sample } from '../support/load.ts';
import { releaseLabPerTest, type ReleaseLab } from '../support/release-lab.ts';

/**
 * Issue 10 §3: a revert moves traffic before any GitHub call, finishes what an interrupted run
 * left, stops a ramp in progress (the canary, seeing a change it did not make, ends reverted),
 * and a new request goes one release further back.
 */
const startLab = releaseLabPerTest();

const now = () => performance.timeOrigin + performance.now();
const health = '{url: "http://{address}/healthz", timeout: 5s, interval: 200ms}';

async function blueGreen(l: ReleaseLab, version: string, runId: string) {
  const step = await l.run(
    'deploy',
    'main',
    { environment: 'production', production: 'true', artifact: version, strategy: 'blue-green', target: l.routing(), health },
    { runId },
  );
  expect(step.errors).toEqual([]);
  return step;
}

const revertInputs = (l: ReleaseLab, reason: string, extra: Record<string, string> = {}) => ({
  environment: 'production',
  reason,
  target: l.routing(),
  health,
  ...extra,
});

/** When every request sent from then on was answered by `version`: the moment traffic was all there. */
function allOnFrom(samples: readonly Sample[], version: string): number | undefined {
  let from: number | undefined;
  for (const s of samples) {
    if (s.version === version) from ??= s.at;
    else from = undefined;
  }
  return from;
}

const statesOf = (l: ReleaseLab, version: string, revert = false) =>
  l.github.deployments
    .filter((d) => typeof d.payload === 'object' && d.payload.version === version && !!d.payload.revert === revert)
    .map((d) => d.statuses.map((s) => s.state));

describe('revert: traffic first, GitHub second', () => {
  it.each([
    [500, /GitHub answered 500 to GET \/repos\/shipgate-test\/app\/deployments: Server Error/],
    [
      403,
      /GitHub refused to list the deployments of production \(403: Resource not accessible by integration.*\)\. The token needs "deployments: write"/,
    ],
    [
      'rate-limit',
      /GitHub refused GET \/repos\/shipgate-test\/app\/deployments: this token's API rate limit holds until \d\d:\d\d:\d\d UTC \(in \d+m(\d+s)?\), longer than this step waits/,
    ],
    [
      401,
      /GitHub refused the token for GET \/repos\/shipgate-test\/app\/deployments \(401: Bad credentials.*\): it is missing, invalid or expired/,
    ],
  ] as Array<[FaultKind, RegExp]>)(
    'with GitHub answering %s: traffic is back within a second, the error says what is true, and a re-run finishes the record',
    async (kind, said) => {
      const lab = await startLab('nginx', 'v0');
      await blueGreen(lab, 'v1', '8001');
      await blueGreen(lab, 'v2', '8002');
      lab.load.start();
      await sleep(500);
      lab.github.inject({ kind });
      const started = now();
      const step = await lab.run('revert', 'main', revertInputs(lab, 'error rate 4% after the rollout'), { runId: '8100' });
      await sleep(500);
      const samples = await lab.load.stop();
      expect(step.code).not.toBe(0);
      expect(step.errors).toHaveLength(1);
      expect(step.errors[0]).toMatch(/^Traffic is on v1 \((blue|green)\); the revert could not finish: /);
      expect(step.errors[0]).toMatch(said);
      expect(step.errors[0]).not.toMatch(kind === 401 ? /permission|deployments: write/ : /$^/);
      const relief = allOnFrom(samples, 'v1');
      expect(relief).toBeDefined();
      // From the moment the process started (Node, the bundle, reading the router, nginx -t and reload).
      expect(relief! - started).toBeLessThan(kind === 'rate-limit' ? 1500 : 1000);
      expect(trafficStats(samples).routingFailures).toBe(0);
      console.log(
        `revert with GitHub answering ${kind}: all traffic on v1 ${Math.round(relief! - started)} ms after the step started; the step ended after ${Math.round(step.durationMs)} ms`,
      );
      expect(step.durationMs).toBeLessThan(10_000);
      expect(step.summary).toContain('All traffic to');
      // The post step finds main settled: it claims nothing.
      const post = await lab.run('revert', 'post', revertInputs(lab, 'x'), { runId: '8100', state: step.state });
      expect([post.code, post.errors, post.summary]).toEqual([0, [], '']);

      // GitHub is back: the same run again (a re-run) writes the record and moves nothing.
      lab.github.heal();
      const again = await lab.run('revert', 'main', revertInputs(lab, 'error rate 4% after the rollout'), { runId: '8100' });
      expect(again.errors).toEqual([]);
      expect(again.outputs).toMatchObject({ result: 'reverted', artifact: 'v1', version: 'v1', from: 'v2' });
      expect(statesOf(lab, 'v2')).toEqual([['in_progress', 'success', 'failure']]);
      expect(statesOf(lab, 'v1', true)).toEqual([['in_progress', 'success']]);
      expect(again.summary).toContain('it was still live');
    },
  );

  it('a revert killed mid-way (SIGKILL) and run again never restores the release being reverted', async () => {
    const lab = await startLab('nginx', 'v0');
    await blueGreen(lab, 'v1', '8001');
    await blueGreen(lab, 'v2', '8002');
    // GitHub takes its time to create the revert deployment: the runner dies meanwhile.
    lab.github.inject({ kind: 'slow', method: 'POST', path: /\/deployments$/, delayMs: 8000, times: 1 });
    const killed = await lab.run('revert', 'main', revertInputs(lab, 'alert: 5xx'), { runId: '8200', killAfterMs: 2500 });
    expect(killed.signal).toBe('SIGKILL');
    // What it did before dying: traffic on the kept v1, and v2 marked failure first.
    expect(statesOf(lab, 'v2')).toEqual([['in_progress', 'success', 'failure']]);
    const config = await (await import('node:fs/promises')).readFile(lab.nginx!.upstreamFile, 'utf8');
    expect(config).toMatch(/# shipgate: live=(blue|green) blue=v\d blue-version=v\d green=v\d green-version=v\d/);
    await sleep(9000); // the slow create lands after the kill: a revert deployment nobody finished

    const again = await lab.run('revert', 'main', revertInputs(lab, 'alert: 5xx'), { runId: '8200' });
    expect(again.errors).toEqual([]);
    expect(again.outputs).toMatchObject({ result: 'reverted', artifact: 'v1', from: 'v2' });
    // One revert deployment, finished by the re-run, not a second one; v2 is never put back.
    expect(statesOf(lab, 'v1', true)).toEqual([['in_progress', 'success']]);
    expect(statesOf(lab, 'v2')).toEqual([['in_progress', 'success', 'failure']]);
    expect((await (await import('node:fs/promises')).readFile(lab.nginx!.upstreamFile, 'utf8')).split('\n')).toEqual(config.split('\n'));
    const onceMore = await lab.run('revert', 'main', revertInputs(lab, 'alert: 5xx'), { runId: '8200' });
    expect(onceMore.outputs.result).toBe('unchanged');
  });

  it('a revert killed after its deployment was created: the post step marks that deployment error, traffic stays on the good version', async () => {
    const lab = await startLab('nginx', 'v0');
    await blueGreen(lab, 'v1', '8001');
    await blueGreen(lab, 'v2', '8002');
    // The revert deployment exists; GitHub takes its time with its first status, and the runner dies meanwhile.
    lab.github.inject({ kind: 'slow', method: 'POST', path: /\/statuses$/, body: /"state":"in_progress"/, delayMs: 6000 });
    const killed = await lab.run('revert', 'main', revertInputs(lab, 'alert: 5xx'), { runId: '8250', killAfterMs: 3000 });
    expect(killed.signal).toBe('SIGKILL');
    lab.github.heal();
    await sleep(6000); // the slow status lands: in_progress, left for nobody to finish
    const post = await lab.run('revert', 'post', revertInputs(lab, 'alert: 5xx'), { runId: '8250', state: killed.state });
    expect(post.code).toBe(0);
    expect(statesOf(lab, 'v1', true)).toEqual([['in_progress', 'error']]);
    const revertRecord = lab.github.deployments.find((d) => typeof d.payload === 'object' && d.payload.revert)!;
    expect(revertRecord.statuses.at(-1)!.description).toMatch(
      /^The revert did not finish; traffic is on v1 \((blue|green)\)\. Run it again/,
    );
    expect(post.summary).toContain('The revert did not finish');
    expect(await (await fetch(`${lab.nginx!.url}/`)).text()).toContain('v1');
  });

  it('a new request goes one release further back and keeps its reason; the same request again changes nothing', async () => {
    const lab = await startLab('nginx', 'v0');
    for (const [i, v] of ['v1', 'v2', 'v3'].entries()) await blueGreen(lab, v, `800${i}`);
    const first = await lab.run('revert', 'main', revertInputs(lab, 'alert A'), { runId: '8301' });
    expect(first.outputs).toMatchObject({ result: 'reverted', version: 'v2' });
    expect(first.summary).toContain('switched back to the kept slot first thing');
    lab.load.start();
    const second = await lab.run('revert', 'main', revertInputs(lab, 'alert B: v2 is bad too'), { runId: '8302' });
    await sleep(800);
    const samples = await lab.load.stop();
    expect(second.errors).toEqual([]);
    expect(second.outputs).toMatchObject({ result: 'reverted', version: 'v1', from: 'v2' });
    expect(second.summary).toContain('redeployed');
    expect(trafficStats(samples.filter((s) => s.at > now() - 500)).byVersion).toEqual({ v1: expect.any(Number) });
    expect(trafficStats(samples).routingFailures).toBe(0);
    const back = lab.github.deployments.find((d) => typeof d.payload === 'object' && d.payload.revert && d.payload.version === 'v1')!;
    expect(back.payload).toMatchObject({ revert: { from: 'v2', reason: 'alert B: v2 is bad too', run: '8302' } });
    const third = await lab.run('revert', 'main', revertInputs(lab, 'alert B again'), { runId: '8302', env: { GITHUB_RUN_ATTEMPT: '2' } });
    expect(third.outputs).toMatchObject({ result: 'unchanged', version: 'v1' });
    expect(third.stdout).toContain('this request (8302) already reverted production to v1');
  });

  it('a revert during a ramp: all traffic to the live slot at once, and the canary, finding a change it did not make, ends reverted', async () => {
    const lab = await startLab('nginx', 'v0');
    await blueGreen(lab, 'v1', '8001');
    const staged = await lab.run(
      'deploy',
      'main',
      { environment: 'production', production: 'true', artifact: 'v2', strategy: 'canary', target: lab.routing(), health },
      { runId: '8400' },
    );
    expect(staged.outputs.result).toBe('staged');
    lab.load.start();
    let atHalf: () => void;
    const half = new Promise<void>((resolve) => (atHalf = resolve));
    const canary = lab.run(
      'canary',
      'main',
      {
        'deployment-id': staged.outputs['deployment-id']!,
        steps: '50%:8s, 100%',
        interval: '1s',
        router: lab.routing(),
        metrics: stringify({ type: 'prometheus', address: lab.prometheus.url }),
        gate: stringify([{ name: 'scraped', query: 'sum(up)', min: 1 }]),
      },
      { runId: '8400', onStdout: (chunk) => chunk.includes('Canary at 50%') && atHalf() },
    );
    await half;
    await sleep(1000);
    const revertStarted = now();
    const revert = await lab.run('revert', 'main', revertInputs(lab, 'on-call: stop it'), { runId: '8401' });
    const ramp = await canary;
    await sleep(500);
    const samples = await lab.load.stop();
    expect(revert.errors).toEqual([]);
    expect(revert.outputs).toMatchObject({ result: 'reverted', version: 'v1', from: 'v2' });
    expect(ramp.outputs.result).toBe('reverted');
    expect(ramp.outputs.reason).toMatch(/changed by someone else/);
    const relief = allOnFrom(samples, 'v1')!;
    expect(relief - revertStarted).toBeLessThan(1000);
    expect(samples.filter((s) => s.at > relief).every((s) => s.version === 'v1')).toBe(true);
    expect(trafficStats(samples).byVersion.v2).toBeGreaterThan(50);
    expect(trafficStats(samples).routingFailures).toBe(0);
    expect(statesOf(lab, 'v2').at(-1)!.at(-1)).toBe('failure');
    expect(statesOf(lab, 'v2').flat()).not.toContain('success');
  });
});
