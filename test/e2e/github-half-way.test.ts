import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { releaseLabPerTest, type ReleaseLab } from '../support/release-lab.ts';

/**
 * Issue 11 §5: GitHub answers 502 to the last status after traffic moved. The step says what is
 * true, sets every output, the post step claims nothing, and the next run writes the record from
 * the router's truth.
 */
const startLab = releaseLabPerTest();

const health = '{url: "http://{address}/healthz", timeout: 5s, interval: 200ms}';
const STATUSES = /\/deployments\/\d+\/statuses$/;
const statesOf = (l: ReleaseLab, version: string) =>
  l.github.deployments
    .filter((d) => typeof d.payload === 'object' && d.payload.version === version)
    .map((d) => d.statuses.map((s) => s.state));

describe('records that tell the truth when GitHub fails half-way', () => {
  it('blue-green: a 502 on the success status after the switch', async () => {
    const lab = await startLab('nginx', 'v0');
    const deploy = (artifact: string, runId: string) =>
      lab.run(
        'deploy',
        'main',
        { environment: 'production', production: 'true', artifact, strategy: 'blue-green', target: lab.routing(), health },
        { runId },
      );
    expect((await deploy('v1', '9301')).errors).toEqual([]);
    // The in_progress status goes through; the success after the switch meets a 502.
    lab.github.inject({ kind: 502, method: 'POST', path: STATUSES, skip: 1, times: 1 });
    const v2 = await deploy('v2', '9302');
    expect(lab.github.faultsServed).toHaveLength(1);
    expect(v2.code).toBe(0);
    expect(v2.errors).toEqual([]);
    expect(v2.warnings).toContainEqual(
      expect.stringMatching(
        /^traffic is on v2; the GitHub record could not be written \(GitHub answered 502 to POST \/repos\/shipgate-test\/app\/deployments\/\d+\/statuses: .*\)\. The next Shipgate run records it from the router\.$/,
      ),
    );
    expect(v2.outputs).toMatchObject({ result: 'success', version: 'v2', slot: 'blue', 'previous-artifact': 'v1' });
    expect(v2.outputs['deployment-id']).toMatch(/^\d+$/);
    expect(statesOf(lab, 'v2')).toEqual([['in_progress']]);
    const post = await lab.run('deploy', 'post', {}, { runId: '9302', state: v2.state });
    expect(post.stdout).toContain('recorded its outcome itself; nothing to do');
    expect(statesOf(lab, 'v2')).toEqual([['in_progress']]);

    // The next run reads the router: v2 is live, so its deployment gets the success GitHub missed.
    const v3 = await deploy('v3', '9303');
    expect(v3.errors).toEqual([]);
    expect(v3.outputs['previous-artifact']).toBe('v2');
    expect(statesOf(lab, 'v2')).toEqual([['in_progress', 'success', 'inactive']]);
    expect(
      lab.github.deployments.find((d) => typeof d.payload === 'object' && d.payload.version === 'v2')!.statuses[1]!.description,
    ).toMatch(/^v2 is live on blue \(the router says so; recorded late\)$/);
  });

  it('canary: a 502 on the status that records the promotion', async () => {
    const lab = await startLab('nginx', 'v0');
    const staged = await lab.run(
      'deploy',
      'main',
      { environment: 'production', production: 'true', artifact: 'v1', strategy: 'canary', target: lab.routing(), health },
      { runId: '9401' },
    );
    expect(staged.outputs.result).toBe('staged');
    const id = staged.outputs['deployment-id']!;
    lab.github.inject({ kind: 502, method: 'POST', path: new RegExp(`/deployments/${id}/statuses$`), body: /"state":"success"/ });
    const canary = await lab.run(
      'canary',
      'main',
      {
        'deployment-id': id,
        steps: '50%:2s, 100%',
        interval: '1s',
        router: lab.routing(),
        metrics: stringify({ type: 'prometheus', address: lab.prometheus.url }),
        gate: stringify([{ name: 'scraped', query: 'sum(up)', min: 1 }]),
      },
      { runId: '9401' },
    );
    expect(canary.code).toBe(0);
    expect(canary.outputs).toMatchObject({ result: 'promoted', 'final-weight': '100' });
    expect(canary.warnings).toContainEqual(
      expect.stringMatching(
        /^traffic is on the canary \(v1\); deployment \d+ could not be updated \(success on deployment \d+\)\. The next Shipgate run records it from the router\.$/,
      ),
    );
    expect(statesOf(lab, 'v1')[0]).not.toContain('success');
    const post = await lab.run('canary', 'post', { router: lab.routing() }, { runId: '9401', state: canary.state });
    expect(post.stdout).toContain('settled traffic itself; nothing to undo');
    lab.github.heal();
    const next = await lab.run(
      'deploy',
      'main',
      { environment: 'production', production: 'true', artifact: 'v2', strategy: 'canary', target: lab.routing(), health },
      { runId: '9402' },
    );
    expect(next.errors).toEqual([]);
    expect(next.outputs['previous-artifact']).toBe('v1');
    expect(statesOf(lab, 'v1')[0]!.at(-1)).toBe('success');
  });
});
