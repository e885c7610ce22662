import { describe, expect, it } from 'vitest';
import { runRamp } from '../../src/canary/ramp.ts';
import { parseSteps } from '../../src/canary/schedule.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Gate } from '../../src/gates/gate.ts';
import { gateSchema, type GateRule } from '../../src/gates/rules.ts';
import type { MetricsProvider } from '../../src/metrics/provider.ts';
import type { TrafficRouter } from '../../src/routers/router.ts';

/** A router that keeps the weights it was given and can refuse some of them. */
function recordingRouter(refuse: (weight: number, attempt: number) => boolean = () => false) {
  const weights: number[] = [];
  let attempt = 0;
  const router: TrafficRouter = {
    description: 'recording router',
    async check() {},
    async setWeight(weight) {
      attempt++;
      if (refuse(weight, attempt)) throw new Error(`refused ${weight}%`);
      weights.push(weight);
    },
  };
  return { router, weights };
}

const metrics = (value: () => number | undefined): MetricsProvider => ({
  description: 'constant',
  async query() {
    const v = value();
    return v === undefined ? { noData: 'empty result' } : { value: v };
  },
});

const gate = (provider: MetricsProvider) =>
  new Gate(gateSchema.parse([{ name: 'errors', query: 'q', max: 0.05 }]) as GateRule[], provider, 100);
const steps = parseSteps('10%:300ms, 50%:300ms, 100%');

describe('runRamp', () => {
  it('walks every step and promotes, keeping to the holds', async () => {
    const { router, weights } = recordingRouter();
    const report = await runRamp({
      steps,
      intervalMs: 100,
      router,
      gate: gate(metrics(() => 0.01)),
      logger: silentLogger,
      signal: new AbortController().signal,
    });
    expect(weights).toEqual([10, 50, 100]);
    expect(report).toMatchObject({ result: 'promoted', finalWeight: 100, plannedHoldMs: 600 });
    expect(report.durationMs).toBeGreaterThanOrEqual(600);
    expect(report.durationMs).toBeLessThan(750);
    expect(report.steps.map((s) => s.verdict)).toEqual(['passed', 'passed', 'promoted']);
    expect(report.steps[0]!.readings.length).toBeGreaterThanOrEqual(3);
  });

  it('reverts to 0% on the first failing verdict', async () => {
    const { router, weights } = recordingRouter();
    const report = await runRamp({
      steps,
      intervalMs: 100,
      router,
      gate: gate(metrics(() => (weights.at(-1) === 50 ? 0.5 : 0))),
      logger: silentLogger,
      signal: new AbortController().signal,
    });
    expect(weights).toEqual([10, 50, 0]);
    expect(report).toMatchObject({ result: 'reverted', finalWeight: 0, stableRestored: true });
    expect(report.reason).toBe('gate failed at 50%: errors: 0.5 above max 0.05');
  });

  it('reverts when the router refuses a weight', async () => {
    const { router, weights } = recordingRouter((weight) => weight === 50);
    const report = await runRamp({
      steps,
      intervalMs: 100,
      router,
      gate: gate(metrics(() => 0)),
      logger: silentLogger,
      signal: new AbortController().signal,
    });
    expect(weights).toEqual([10, 0]);
    expect(report.reason).toBe('the router did not take 50%: refused 50%');
    expect(report.steps[1]!.verdict).toBe('router-failed');
  });

  it('stops and reverts at once when cancelled mid-hold', async () => {
    const { router, weights } = recordingRouter();
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 150);
    const started = performance.now();
    const report = await runRamp({
      steps: parseSteps('10%:1h, 100%'),
      intervalMs: 60_000,
      router,
      gate: gate(metrics(() => 0)),
      logger: silentLogger,
      signal: cancel.signal,
    });
    expect(performance.now() - started).toBeLessThan(500);
    expect(weights).toEqual([10, 0]);
    expect(report).toMatchObject({ result: 'reverted', reason: 'the run was cancelled' });
  });

  it('says so when even the revert is refused', async () => {
    const { router } = recordingRouter((weight) => weight === 0);
    const report = await runRamp({
      steps,
      intervalMs: 100,
      router,
      gate: gate(metrics(() => 1)),
      logger: silentLogger,
      signal: new AbortController().signal,
    });
    expect(report.stableRestored).toBe(false);
    expect(report.finalWeight).toBe(10);
    expect(report.reason).toMatch(/and putting traffic back on stable failed: refused 0%$/);
  });
});
