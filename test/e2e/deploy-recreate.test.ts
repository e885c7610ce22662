import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type DeployLab, slotCommand, deployLabPerTest, statesOf } from '../support/deploy-lab.ts';

const startLab = deployLabPerTest();

/** Recreate on the lab's green address: the command replaces whatever runs there. */
function recreateInputs(l: DeployLab, artifact: string, extra: Record<string, string> = {}) {
  return {
    environment: 'production',
    production: 'true',
    artifact,
    target: stringify({ type: 'command', run: slotCommand(l.dir, l.modes, l.green) }),
    health: `{url: "http://${l.green}/healthz", timeout: 2s, interval: 200ms}`,
    smoke: `[{url: "http://${l.green}/", body-contains: "{artifact}", body-regex: "^r\\\\d 200"}]`,
    'environment-url': 'https://app.example.com',
    ...extra,
  };
}

const served = async (address: string) => (await fetch(`http://${address}/`)).headers.get('x-version');

describe('deploy with a command target (recreate)', () => {
  it('records in_progress then success with the payload, retires earlier production deployments, and reverts a failed one', async () => {
    const lab = await startLab();
    lab.modes.r3 = 'unready';
    const r1 = await lab.run('deploy', recreateInputs(lab, 'r1'));
    const r2 = await lab.run('deploy', recreateInputs(lab, 'r2'));
    expect([r1.errors, r2.errors]).toEqual([[], []]);
    expect([r1.code, r2.code]).toEqual([0, 0]);
    expect(await served(lab.green)).toBe('r2');

    const deployment = lab.github.deploymentOf('r2');
    expect(deployment.request).toEqual({
      ref: lab.github.env().GITHUB_SHA,
      environment: 'production',
      payload: { artifact: 'r2', version: 'r2', previous: 'r1', strategy: 'recreate', run: '4242' },
      description: 'r2 (recreate)',
      required_contexts: [],
      auto_merge: false,
      transient_environment: false,
      production_environment: true,
    });
    expect(deployment.statuses.map((s) => [s.state, s.environment_url, s.log_url])).toEqual([
      ['in_progress', 'https://app.example.com', 'https://github.com/shipgate-test/app/actions/runs/4242/attempts/1'],
      ['success', 'https://app.example.com', 'https://github.com/shipgate-test/app/actions/runs/4242/attempts/1'],
    ]);
    // GitHub's auto_inactive leaves production deployments alone; the action retired r1 itself.
    expect(statesOf(lab.github, 'r1')).toEqual(['in_progress', 'success', 'inactive']);
    expect(r2.outputs).toMatchObject({ result: 'success', 'deployment-id': String(deployment.id), 'previous-artifact': 'r1', slot: '' });

    // r3 never gets ready: failure recorded, r2 put back by the same code as actions/revert.
    const r3 = await lab.run('deploy', recreateInputs(lab, 'r3'));
    expect(r3.code).not.toBe(0);
    expect(r3.errors).toHaveLength(1);
    expect(r3.errors[0]).toMatch(/Deploy of r3 to production failed: .*was not healthy within 2s.*; r2 was put back \(redeployed\)/);
    expect(statesOf(lab.github, 'r3')).toEqual(['in_progress', 'failure']);
    expect(statesOf(lab.github, 'r2')).toEqual(['in_progress', 'success']);
    expect(await served(lab.green)).toBe('r2');
    expect((await lab.calls()).slice(1).map((c) => c.version)).toEqual(['r1', 'r2', 'r3', 'r2']);
    expect((await lab.calls()).at(-1)!.env).toEqual({
      SHIPGATE_ARTIFACT: 'r2',
      SHIPGATE_VERSION: 'r2',
      SHIPGATE_ENVIRONMENT: 'production',
    });
    expect(r3.summary).toContain('| Put r2 live | ✅ |');

    // on-failure: fail leaves the failed version in place.
    const r4 = await lab.run('deploy', recreateInputs(lab, 'r3', { 'on-failure': 'fail' }));
    expect(r4.code).not.toBe(0);
    expect(await served(lab.green)).toBe('r3');
  });

  it('says which permission is missing on a 403, and creates nothing', async () => {
    const lab = await startLab();
    lab.github.denied.add('deployments');
    const step = await lab.run('deploy', recreateInputs(lab, 'r1'));
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toContain('permissions: { deployments: write }');
    expect(lab.github.deployments).toEqual([]);
    expect((await lab.calls()).slice(1)).toEqual([]);
  });
});

describe('deploy refuses bad input before any side effect', () => {
  it.each([
    [
      'strategy',
      { strategy: 'rolling' },
      /^Input "strategy": "rolling" is not one of recreate, blue-green, canary\. Example: strategy: recreate$/,
    ],
    ['health', { health: '{url: "not a url", timeout: 5s}' }, /^Input "health": url: url must be an http\(s\) URL.*Example: health: /],
    ['smoke', { smoke: '{url: "http://{address}/"}' }, /^Input "smoke": must be a YAML list of checks, each with a url\. Example: smoke: /],
    ['target (missing slot)', { target: 'MISSING_GREEN' }, /^Input "target": green: .*Example: target: /],
    [
      'strategy/target mismatch',
      { strategy: 'recreate' },
      /^Input "strategy": recreate needs a target of type command, not nginx\. Example: strategy: canary$/,
    ],
    ['artifact', { artifact: 'v1; rm -rf /' }, /^Input "artifact": "v1; rm -rf \/" is not an artifact/],
    ['environment', { environment: '' }, /^Input "environment": is required\./],
    ['production', { production: 'yes' }, /^Input "production": "yes" is not true or false/],
  ] as Array<[string, Record<string, string>, RegExp]>)('%s', async (_name, bad, message) => {
    const lab = await startLab();
    const before = await lab.upstreamText();
    const target = bad.target === 'MISSING_GREEN' ? lab.nginxTarget().replace(/^green: .*\n/m, '') : lab.nginxTarget();
    const step = await lab.run('deploy', {
      environment: 'production',
      artifact: 'v1',
      strategy: 'blue-green',
      target,
      health: 'http://{address}/healthz',
      ...bad,
      ...(bad.target ? { target } : {}),
    });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(message);
    expect(lab.github.requests).toEqual([]);
    expect(await lab.upstreamText()).toBe(before);
    expect((await lab.calls()).slice(1)).toEqual([]);
  });
});
