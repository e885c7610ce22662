import { afterEach, describe, expect, it } from 'vitest';
import { type Lab, type LabOptions, startLab } from '../support/canary-lab.ts';
import { trafficStats } from '../support/load.ts';
import { runStep } from '../support/runner.ts';
import { stopAll } from '../support/services.ts';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
  await stopAll();
});

async function canaryRun(options: LabOptions, inputs: Record<string, string> = {}) {
  lab = await startLab(options);
  lab.load.start();
  const step = await runStep('canary', 'main', { inputs: lab.inputs(inputs) });
  // Traffic after the decision shows where the router left it.
  const decidedAt = performance.timeOrigin + performance.now();
  await new Promise((r) => setTimeout(r, 1500));
  const samples = await lab.load.stop();
  const after = trafficStats(samples.filter((s) => s.at > decidedAt + 200));
  return { step, stats: trafficStats(samples), after, report: JSON.parse(step.outputs.report ?? '{}'), servers: await lab.upstreamServers() };
}

describe('canary on real nginx and Prometheus', () => {
  it('promotes a good canary with no request failed by a weight change', async () => {
    const { step, stats, after, report, servers } = await canaryRun({ canary: 'healthy' });
    expect(step.errors).toEqual([]);
    expect(step.code).toBe(0);
    expect(step.outputs.result).toBe('promoted');
    expect(step.outputs['final-weight']).toBe('100');
    expect(servers).toEqual([`${lab!.canary.address} weight=100`]);
    expect(after.byVersion).toEqual({ canary: after.total });
    expect(stats.routingFailures).toBe(0);
    expect(stats.appErrors).toBe(0);
    expect(report.steps.map((s: { verdict: string }) => s.verdict)).toEqual(['passed', 'passed', 'promoted']);
    expect(step.summary).toContain('Canary promoted');
    expect(step.summary).toContain('```mermaid');
  });
});
