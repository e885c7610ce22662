import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type DeployLab, slotCommand, deployLabPerTest, statesOf } from '../support/deploy-lab.ts';
import { runStep, type StepResult } from '../support/runner.ts';

const startLab = deployLabPerTest();

const token = 'ghs_doubletoken000000000000000000000000';

/** A recreate deploy of `artifact` to staging, run as the runner would, with a `run` of our choosing. */
function deploy(l: DeployLab, artifact: string, run: string[], options: { killAfterMs?: number; cancelAfterMs?: number } = {}) {
  return runStep('deploy', 'main', {
    inputs: {
      'github-token': token,
      environment: 'staging',
      artifact,
      target: stringify({ type: 'command', run }),
      health: `{url: "http://${l.green}/healthz", timeout: 30s, interval: 200ms}`,
    },
    env: l.github.env(),
    timeoutMs: 60_000,
    ...options,
  });
}

/** The post step with main's state; post steps get the same inputs, so the token comes from there. */
const post = (l: DeployLab, main: StepResult) =>
  runStep('deploy', 'post', { inputs: { 'github-token': token }, state: main.state, env: l.github.env(), timeoutMs: 30_000 });

describe('deploy post step', () => {
  it('marks a deployment whose runner died mid-run as error, and keeps the token out of state', async () => {
    const lab = await startLab();
    const main = await deploy(lab, 'k1', ['sleep', '30'], { killAfterMs: 3000 });
    expect(main.signal).toBe('SIGKILL');
    expect(statesOf(lab.github, 'k1', 'staging')).toEqual(['in_progress']);
    expect(JSON.stringify(main.state)).not.toContain(token);

    const step = await post(lab, main);
    expect([step.code, step.errors]).toEqual([0, []]);
    const statuses = lab.github.deploymentOf('k1', 'staging').statuses;
    expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
    expect(statuses[1]!.description).toBe('k1: the run was cancelled or its runner died before the deploy finished');
    expect(step.summary).toContain('marked error');
  });

  it('does nothing after a deploy that recorded its outcome', async () => {
    const lab = await startLab();
    const main = await deploy(lab, 'k2', slotCommand(lab.dir, lab.modes, lab.green));
    expect([main.code, main.errors]).toEqual([0, []]);
    const step = await post(lab, main);
    expect([step.code, step.errors, step.summary]).toEqual([0, [], '']);
    expect(step.stdout).toContain('nothing to do');
    expect(statesOf(lab.github, 'k2', 'staging')).toEqual(['in_progress', 'success']);
  });

  it('on cancel stops polling health at once and records failure itself, so the post step has nothing to do', async () => {
    const lab = await startLab();
    lab.modes.k3 = 'unready';
    const main = await deploy(lab, 'k3', slotCommand(lab.dir, lab.modes, lab.green), { cancelAfterMs: 2500 });
    expect(main.code).not.toBe(0);
    expect(main.durationMs).toBeLessThan(7500); // done before the runner's SIGTERM
    expect(main.errors).toEqual(['Deploy of k3 to staging stopped: the run was cancelled (SIGINT); k3 is live, unchecked']);
    const statuses = lab.github.deploymentOf('k3', 'staging').statuses;
    expect(statuses.map((s) => [s.state, s.description])).toEqual([
      ['in_progress', 'Deploying k3 (recreate)'],
      ['failure', 'k3: the run was cancelled (SIGINT); k3 is live, unchecked'],
    ]);
    const step = await post(lab, main);
    expect([step.code, step.errors, step.summary]).toEqual([0, [], '']);
    expect(lab.github.deploymentOf('k3', 'staging').statuses).toHaveLength(2);
  });
});
