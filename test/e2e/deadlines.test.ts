import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../support/canary-lab.ts';
import { type DeployLab, deployLabPerTest } from '../support/deploy-lab.ts';
import { front, type HostileServer, rateLimited, silent, startHostile, stopHostile } from '../support/hostile.ts';
import { runStep, type StepOptions, type StepResult } from '../support/runner.ts';
import { stopAll } from '../support/services.ts';

/**
 * Issue 11 §3: every network call has a deadline, and SIGTERM means stop. Each hostile case runs
 * the bundle as a runner would: left alone, the step ends within its deadline with one error that
 * names what did not answer; sent SIGTERM (the moment the hostile side has its request), it ends
 * within seconds and leaves nothing held (the next deploy gets the nginx lock at once).
 */

/** SIGTERM the step once `server` has received `count` requests; `stoppedMs` is signal to exit. */
function terminateWhen(server: HostileServer, count = 1) {
  let signalledAt: number | undefined;
  return {
    onSpawn: (child: ChildProcess) =>
      void server.received(count).then(() => {
        signalledAt = performance.now();
        child.kill('SIGTERM');
      }),
    stoppedMs: (step: StepResult, endedAt: number) => {
      expect(signalledAt, `SIGTERM was never sent: ${step.stdout}`).toBeDefined();
      return endedAt - signalledAt!;
    },
  };
}

/** SIGTERM the step once its log says `text`. */
function terminateOn(text: string) {
  let child: ChildProcess | undefined;
  let log = '';
  let signalledAt: number | undefined;
  return {
    onSpawn: (spawned: ChildProcess) => void (child = spawned),
    onStdout: (chunk: string) => {
      log += chunk;
      if (signalledAt === undefined && log.includes(text)) {
        signalledAt = performance.now();
        child!.kill('SIGTERM');
      }
    },
    stoppedMs: (step: StepResult, endedAt: number) => {
      expect(signalledAt, `"${text}" never appeared: ${step.stdout}`).toBeDefined();
      return endedAt - signalledAt!;
    },
  };
}

async function timed(run: Promise<StepResult>): Promise<[StepResult, number]> {
  const step = await run;
  return [step, performance.now()];
}

afterEach(stopHostile);

describe('a registry that never answers', () => {
  let context: string;
  beforeAll(async () => {
    context = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
    await writeFile(join(context, 'index.html'), 'hi\n');
  });
  const push = (registry: HostileServer, options: StepOptions = {}) =>
    timed(
      runStep('build-push', 'main', { inputs: { image: `${registry.host}/app`, builder: 'oci', context }, timeoutMs: 150_000, ...options }),
    );

  it('fails the push after 30 s and one more try, naming the registry', async () => {
    const registry = await startHostile(silent);
    const [step] = await push(registry);
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toBe(`${registry.host}/app: GET ${registry.url}/v2/ gave no answer within 30s while signing in`);
    expect(registry.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v2/', 'GET /v2/']);
    expect(step.durationMs).toBeGreaterThan(60_000);
    expect(step.durationMs).toBeLessThan(75_000);
  }, 120_000);

  it('stops within seconds of SIGTERM', async () => {
    const registry = await startHostile(silent);
    const signal = terminateWhen(registry);
    const [step, ended] = await push(registry, { onSpawn: signal.onSpawn });
    const stopped = signal.stoppedMs(step, ended);
    console.log(`build-push, silent registry: exit ${Math.round(stopped)} ms after SIGTERM`);
    expect(stopped).toBeLessThan(3000);
    expect(step.code).not.toBe(0);
    expect(step.errors).toEqual(['the run was cancelled (SIGTERM)']);
  });
});

describe('a GitHub API that never answers, while deploy holds the nginx lock', () => {
  const startLab = deployLabPerTest();
  const deploy = (lab: DeployLab, artifact: string, env: Record<string, string> = {}, options: StepOptions = {}) =>
    timed(
      runStep('deploy', 'main', {
        inputs: {
          'github-token': 'ghs_doubletoken000000000000000000000000',
          environment: 'production',
          artifact,
          strategy: 'blue-green',
          target: lab.nginxTarget(),
          health: `{url: "http://{address}/healthz", timeout: 10s, interval: 200ms}`,
        },
        env: { ...lab.github.env(), ...env },
        timeoutMs: 120_000,
        ...options,
      }),
    );

  it('fails after 20 s and one more try, names the call, and releases the lock', async () => {
    const lab = await startLab();
    const github = await startHostile(silent);
    const [step] = await deploy(lab, 'v1', { GITHUB_API_URL: github.url });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toContain(`GitHub GET ${github.url}/repos/shipgate-test/app/deployments gave no answer within 20s`);
    expect(github.seen).toHaveLength(2);
    expect(step.durationMs).toBeLessThan(55_000);
    expect(await lab.upstream()).toEqual([lab.blue]);
    // The lock is free: the next deploy, with GitHub answering, goes through.
    const [next] = await deploy(lab, 'v1');
    expect(next.errors).toEqual([]);
    expect(await lab.upstream()).toEqual([lab.green]);
  }, 120_000);

  it('stops within seconds of SIGTERM and releases the lock', async () => {
    const lab = await startLab();
    const github = await startHostile(silent);
    const signal = terminateWhen(github);
    const [step, ended] = await deploy(lab, 'v1', { GITHUB_API_URL: github.url }, { onSpawn: signal.onSpawn });
    const stopped = signal.stoppedMs(step, ended);
    console.log(`deploy, silent GitHub: exit ${Math.round(stopped)} ms after SIGTERM`);
    expect(stopped).toBeLessThan(3000);
    expect(step.code).not.toBe(0);
    expect(step.errors[0]).toContain('cancelled (SIGTERM)');
    const [next] = await deploy(lab, 'v1');
    expect(next.errors).toEqual([]);
  });
});

describe('a rate-limited GitHub', () => {
  const startLab = deployLabPerTest();
  const deploy = (lab: DeployLab, github: HostileServer, options: StepOptions = {}) =>
    timed(
      runStep('deploy', 'main', {
        inputs: {
          'github-token': 'ghs_doubletoken000000000000000000000000',
          environment: 'production',
          artifact: 'v1',
          target: stringify({ type: 'command', run: ['true'] }),
        },
        env: { ...lab.github.env(), GITHUB_API_URL: github.url },
        timeoutMs: 90_000,
        ...options,
      }),
    );

  it('gives up at once on a reset an hour away, and says when it resets', async () => {
    const lab = await startLab();
    const github = await startHostile(rateLimited(3601));
    const [step] = await deploy(lab, github);
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(
      /^GitHub refused GET \/repos\/shipgate-test\/app\/deployments: this token's API rate limit holds until \d\d:\d\d:\d\d UTC \(in 60m(1s)?\), longer than this step waits/,
    );
    expect(step.errors[0]).not.toContain('permissions:');
    expect(github.seen).toHaveLength(1);
    expect(step.durationMs).toBeLessThan(10_000);
  });

  it('waits out a reset a few seconds away, once, and carries on', async () => {
    const lab = await startLab();
    const limited = rateLimited(2);
    const github = await startHostile(
      front(lab.github.url, (req, res, count) => (count === 1 ? (limited(req, res, github), true) : false)),
    );
    const [step] = await deploy(lab, github);
    expect(step.errors).toEqual([]);
    expect(step.stdout).toMatch(/GitHub rate limit on GET \/repos\/shipgate-test\/app\/deployments: waiting [23]s, once\./);
    expect(lab.github.deploymentOf('v1').statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  });

  it('stops within seconds of SIGTERM while it waits for the reset', async () => {
    const lab = await startLab();
    const github = await startHostile(rateLimited(25));
    const signal = terminateOn('waiting 26s, once');
    const [step, ended] = await deploy(lab, github, { onSpawn: signal.onSpawn, onStdout: signal.onStdout });
    const stopped = signal.stoppedMs(step, ended);
    console.log(`deploy, rate-limited GitHub (waiting 26 s): exit ${Math.round(stopped)} ms after SIGTERM`);
    expect(stopped).toBeLessThan(3000);
    expect(github.seen).toHaveLength(1);
    expect(step.errors[0]).toContain('cancelled (SIGTERM)');
  });
});

describe('a Prometheus that stops answering once traffic moves', () => {
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.stop();
    lab = undefined;
    await stopAll();
  });
  /**
   * The preflight reaches the real Prometheus through a front; from the moment the ramp starts the
   * front reads each query and never answers, as a hung Prometheus does.
   */
  const canary = async (options: StepOptions = {}) => {
    lab = await startLab({ canary: 'healthy' });
    lab.load.start();
    let ramping = false;
    let hung: () => void = () => {};
    const firstHung = new Promise<void>((done) => (hung = done));
    const prometheus = await startHostile(
      front(lab.prometheus.url, (req) => {
        if (!ramping) return false;
        hung();
        req.resume();
        return true;
      }),
    );
    const inputs = lab.inputs({ metrics: stringify({ type: 'prometheus', address: prometheus.url, timeout: '2s' }) });
    const onStdout = (chunk: string) => {
      if (chunk.includes('Canary at 10%')) ramping = true;
      options.onStdout?.(chunk);
    };
    return { prometheus, firstHung, result: timed(runStep('canary', 'main', { inputs, timeoutMs: 90_000, ...options, onStdout })) };
  };

  it('never promotes on silence: every query ends at its timeout and the canary is reverted', async () => {
    const { prometheus, result } = await canary();
    const [step] = await result;
    expect(step.outputs.result).toBe('reverted');
    expect(step.outputs.reason).toContain(
      `no data at the end of the hold: Prometheus unreachable: POST ${prometheus.url}/api/v1/query gave no answer within 2s`,
    );
    expect(await lab!.upstreamServers()).toEqual([`${lab!.stable.address} weight=100`]);
    // Steps of 6 s, looks every 2 s: one hold and a query timeout, far from undici's 300 s default.
    expect(step.durationMs).toBeLessThan(30_000);
  });

  it('stops within seconds of SIGTERM, all traffic on stable', async () => {
    let child: ChildProcess | undefined;
    const { firstHung, result } = await canary({ onSpawn: (spawned) => void (child = spawned) });
    let signalledAt = 0;
    void firstHung.then(() => {
      signalledAt = performance.now();
      child?.kill('SIGTERM');
    });
    const [step, ended] = await result;
    expect(signalledAt, `SIGTERM was never sent: ${step.stdout}`).toBeGreaterThan(0);
    const stopped = ended - signalledAt;
    console.log(`canary, silent Prometheus: exit ${Math.round(stopped)} ms after SIGTERM`);
    expect(stopped).toBeLessThan(3000);
    expect(step.outputs.result).toBe('reverted');
    expect(step.outputs.reason).toContain('cancelled');
    expect(await lab!.upstreamServers()).toEqual([`${lab!.stable.address} weight=100`]);
  });

  it('stops before any traffic moves when Prometheus is silent from the start, naming it', async () => {
    lab = await startLab({ canary: 'healthy' });
    const prometheus = await startHostile(silent);
    const inputs = lab.inputs({ metrics: stringify({ type: 'prometheus', address: prometheus.url, timeout: '2s' }) });
    const [step] = await timed(runStep('canary', 'main', { inputs, timeoutMs: 90_000 }));
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(
      /^Cannot check the gate before moving traffic: .*Prometheus unreachable: POST .* gave no answer within 2s$/,
    );
    expect(step.outputs).toMatchObject({ result: 'refused', reason: step.errors[0], 'final-weight': '0' });
    expect(await lab.upstreamServers()).toEqual([lab.stable.address]);
  });
});
