import { describe, expect, it } from 'vitest';
import { type Clock, type ProgressEvent, runRamp } from '../../src/canary/ramp.ts';
import { parseSteps } from '../../src/canary/schedule.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Gate } from '../../src/gates/gate.ts';
import { gateSchema, type GateRule } from '../../src/gates/rules.ts';
import type { MetricsProvider } from '../../src/metrics/provider.ts';
import { RouterChangedError, type TrafficRouter } from '../../src/routers/router.ts';
import { scriptedMetrics } from '../support/scripted-metrics.ts';

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
  async vector() {
    const v = value();
    return { series: v === undefined ? [] : [{ labels: {}, value: v }] };
  },
  async labelNames() {
    return ['__name__'];
  },
  async scrapeIntervalMs() {
    return undefined;
  },
});

/** Simulated time: sleeping only moves the clock. */
function simulatedClock(): Clock & { t: number } {
  return {
    t: 0,
    now() {
      return this.t;
    },
    async sleep(ms) {
      this.t += ms;
    },
  };
}

const gate = (provider: MetricsProvider, list: unknown[] = [{ name: 'errors', query: 'q', max: 0.05 }], intervalMs = 100) =>
  new Gate(gateSchema.parse(list) as GateRule[], provider, intervalMs);
const steps = parseSteps('10%:300ms, 50%:300ms, 100%');
const options = { intervalMs: 100, logger: silentLogger, signal: new AbortController().signal };

describe('runRamp', () => {
  it('walks every step and promotes, keeping to the holds', async () => {
    const { router, weights } = recordingRouter();
    const report = await runRamp({ ...options, steps, router, gate: gate(metrics(() => 0.01)) });
    expect(weights).toEqual([10, 50, 100]);
    expect(report).toMatchObject({ result: 'promoted', finalWeight: 100, plannedHoldMs: 600 });
    expect(report.durationMs).toBeGreaterThanOrEqual(600);
    expect(report.durationMs).toBeLessThan(750);
    expect(report.steps.map((s) => s.verdict)).toEqual(['passed', 'passed', 'promoted']);
    expect(report.steps[0]!.readings.length).toBeGreaterThanOrEqual(3);
  });

  it('reverts to 0% on the first failing verdict', async () => {
    const { router, weights } = recordingRouter();
    const report = await runRamp({ ...options, steps, router, gate: gate(metrics(() => (weights.at(-1) === 50 ? 0.5 : 0))) });
    expect(weights).toEqual([10, 50, 0]);
    expect(report).toMatchObject({ result: 'reverted', finalWeight: 0, stableRestored: true });
    expect(report.reason).toBe('gate failed at 50%: errors: 0.5 above max 0.05');
  });

  it('reverts when the router refuses a weight', async () => {
    const { router, weights } = recordingRouter((weight) => weight === 50);
    const report = await runRamp({ ...options, steps, router, gate: gate(metrics(() => 0)) });
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
      ...options,
      steps: parseSteps('10%:1h, 100%'),
      intervalMs: 60_000,
      router,
      gate: gate(metrics(() => 0)),
      signal: cancel.signal,
    });
    expect(performance.now() - started).toBeLessThan(500);
    expect(weights).toEqual([10, 0]);
    expect(report).toMatchObject({ result: 'reverted', reason: 'the run was cancelled' });
  });

  it('says so when even the revert is refused', async () => {
    const { router } = recordingRouter((weight) => weight === 0);
    const report = await runRamp({ ...options, steps, router, gate: gate(metrics(() => 1)) });
    expect(report.stableRestored).toBe(false);
    expect(report.finalWeight).toBe(10);
    expect(report.reason).toMatch(/and putting traffic back on stable failed: refused 0%$/);
  });

  it('extends a hold that ends out of bounds, and passes it once the rule is back within bounds', async () => {
    const clock = simulatedClock();
    const { router, weights } = recordingRouter();
    // Out of bounds from 250 ms to 450 ms of the first hold (failure-limit keeps it a breach).
    const value = () => (clock.t >= 250 && clock.t < 450 ? 0.5 : 0);
    const report = await runRamp({
      ...options,
      steps: parseSteps('10%:300ms, 100%'),
      router,
      clock,
      gate: gate(metrics(value), [{ name: 'errors', query: 'q', max: 0.05, 'failure-limit': 10 }]),
    });
    expect(weights).toEqual([10, 100]);
    expect(report.steps[0]).toMatchObject({ verdict: 'passed', extendedMs: 200 });
  });

  it('passes an earlier step on inconclusive evidence but never promotes on it: extends, then reverts', async () => {
    const clock = simulatedClock();
    const { router, weights } = recordingRouter();
    const events: ProgressEvent[] = [];
    const report = await runRamp({
      ...options,
      steps: parseSteps('10%:1s, 50%:1s, 100%'),
      router,
      clock,
      intervalMs: 500,
      gate: gate(
        metrics(() => 0),
        [{ name: 'errors', query: 'q', max: 0.05, 'min-requests': 100, 'requests-query': 'n' }],
        500,
      ),
      inconclusive: { action: 'extend', maxExtensionMs: 2000 },
      onProgress: (event) => events.push(event),
    });
    expect(weights).toEqual([10, 50, 0]);
    expect(report.steps.map((s) => s.verdict)).toEqual(['passed', 'undecided']);
    expect(report.steps[1]!.extendedMs).toBe(2000);
    expect(report.reason).toBe('gate undecided at 50% after the 1s hold and 2s more: errors: inconclusive');
    expect(events[0]).toMatchObject({ kind: 'step', step: 1, steps: 3, weight: 10, rules: [] });
    expect(events.find((e) => e.kind === 'look')).toMatchObject({ weight: 10, rules: [{ rule: 'errors', state: 'inconclusive' }] });
  });

  it('extends an undecided last hold by at least 10 minutes unless told otherwise', async () => {
    const clock = simulatedClock();
    const { router } = recordingRouter();
    const report = await runRamp({
      ...options,
      steps: parseSteps('50%:1s, 100%'),
      router,
      clock,
      gate: gate(
        metrics(() => 0),
        [{ name: 'errors', query: 'q', max: 0.05, 'min-requests': 100, 'requests-query': 'n' }],
      ),
    });
    expect(report.steps[0]!.extendedMs).toBe(600_000);
  });

  it('reverts at once on inconclusive evidence when told to', async () => {
    const clock = simulatedClock();
    const { router, weights } = recordingRouter();
    const report = await runRamp({
      ...options,
      steps: parseSteps('50%:1s, 100%'),
      router,
      clock,
      gate: gate(
        metrics(() => 0),
        [{ name: 'errors', query: 'q', max: 0.05, 'min-requests': 100, 'requests-query': 'n' }],
      ),
      inconclusive: { action: 'revert' },
    });
    expect(weights).toEqual([50, 0]);
    expect(report.reason).toBe('gate undecided at 50% after the 1s hold: errors: inconclusive');
  });

  it('says how many more canary requests a comparison would have needed', async () => {
    const clock = simulatedClock();
    const { router } = recordingRouter();
    let served = 0;
    const provider = scriptedMetrics({});
    provider.vector = async (query) => {
      served += query === 'cn' ? 10 : 0;
      return { series: [{ labels: {}, value: query === 'cn' ? served : query === 'bn' ? clock.t : 0 }] };
    };
    const rule = {
      name: 'vs-stable',
      query: 'sum(cf)',
      'total-query': 'sum(cn)',
      'baseline-query': 'sum(bf)',
      'baseline-total-query': 'sum(bn)',
    };
    const report = await runRamp({
      ...options,
      steps: parseSteps('50%:1s, 100%'),
      router,
      clock,
      gate: gate(provider, [rule]),
      inconclusive: { action: 'extend', maxExtensionMs: 1000 },
    });
    expect(report.result).toBe('reverted');
    expect(report.reason).toMatch(
      /^gate undecided at 50% after the 1s hold and 1s more: vs-stable: inconclusive \(about [\d,]+ more canary requests would decide\)$/,
    );
  });

  it('ends reverted, leaving the router alone, when someone else put all traffic on stable', async () => {
    const { router, weights } = recordingRouter();
    let changed = false;
    router.verifyUnchanged = async () => {
      if (changed) throw new RouterChangedError('the upstream no longer holds canary 10%');
    };
    router.currentWeight = async () => 0;
    setTimeout(() => (changed = true), 120);
    const report = await runRamp({ ...options, steps: parseSteps('10%:2s, 100%'), router, gate: gate(metrics(() => 0)) });
    expect(weights).toEqual([10]);
    expect(report).toMatchObject({ result: 'reverted', stableRestored: true, finalWeight: 0 });
    expect(report.reason).toBe('someone else changed the router (a revert?): the upstream no longer holds canary 10%');
    expect(report.steps[0]!.verdict).toBe('router-changed');
  });

  it('runs hours of ramp in no time on a simulated clock', async () => {
    const clock = simulatedClock();
    const { router } = recordingRouter();
    const started = performance.now();
    const report = await runRamp({
      ...options,
      steps: parseSteps('10%:1h, 100%'),
      intervalMs: 30_000,
      router,
      clock,
      gate: gate(
        metrics(() => 0),
        undefined,
        30_000,
      ),
    });
    expect(report).toMatchObject({ result: 'promoted', durationMs: 3_600_000 });
    expect(report.steps[0]!.readings).toHaveLength(121);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
