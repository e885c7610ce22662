import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { baselineRule, errorRatio, type Lab, type LabOptions, latencyRule, startLab } from '../support/canary-lab.ts';
import { type Sample, trafficStats } from '../support/load.ts';
import { runStep, type StepOptions } from '../support/runner.ts';
import { stopAll } from '../support/services.ts';

/**
 * The gate's fail-open paths, each tried as a new user would, with the bundled action against real
 * nginx, Prometheus (1 s scrape) and app processes under load.
 */
let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
  await stopAll();
});

interface Reading {
  rule: string;
  at: number;
  status: string;
  detail: string;
  comparison?: { state: string; canary: { failures: number; requests: number }; stable: { failures: number; requests: number } };
}
interface Report {
  startedAt: string;
  durationMs: number;
  scrapeIntervalMs?: number;
  lookEveryMs?: number;
  steps: Array<{ weight: number; verdict: string; extendedMs: number; readings: Reading[] }>;
}

async function canaryRun(
  options: LabOptions,
  inputs: (lab: Lab) => Record<string, string>,
  step: StepOptions = {},
  during?: (lab: Lab) => void,
) {
  lab = await startLab(options);
  lab.load.start();
  // Let Prometheus scrape the apps under load before the action reads them.
  await new Promise((r) => setTimeout(r, 1500));
  const originalUpstream = await lab.upstreamServers();
  during?.(lab);
  const main = await runStep('canary', 'main', { inputs: lab.inputs(inputs(lab)), ...step });
  const decidedAt = performance.timeOrigin + performance.now();
  await new Promise((r) => setTimeout(r, 1000));
  const samples = await lab.load.stop();
  const report = JSON.parse(main.outputs.report ?? '{"steps": []}') as Report;
  return {
    main,
    report,
    samples,
    decidedAt,
    originalUpstream,
    stats: trafficStats(samples),
    readings: report.steps.flatMap((s) => s.readings),
    servers: await lab.upstreamServers(),
  };
}

const gate = (...rules: unknown[]) => ({ gate: stringify(rules) });

describe('the gate refuses a query that could never show a failure, before any traffic moves', () => {
  it('a failure query on a label the app does not have (status where it says code)', async () => {
    const rule = {
      ...baselineRule,
      query: 'sum(http_requests_total{instance=~"{canary-instances}",status=~"5.."})',
      'baseline-query': 'sum(http_requests_total{instance=~"{stable-instances}",status=~"5.."})',
    };
    const run = await canaryRun({ canary: 'errors', canaryErrorRate: 0.06 }, () => gate(rule));
    expect(run.main.code).not.toBe(0);
    expect(run.main.errors).toHaveLength(1);
    expect(run.main.errors[0]).toMatch(
      /^Input "gate": errors-vs-stable: query sum\(http_requests_total\{instance=~"127\[\.\]0\[\.\]0\[\.\]1:\d+",status=~"5\.\."\}\): the metric http_requests_total has no label "status", so status=~"5\.\." can never match \(its labels: code, instance, job\)$/,
    );
    expect(run.stats.byVersion.canary).toBeUndefined();
    expect(run.servers).toEqual(run.originalUpstream);
    expect(run.main.state).toEqual({});
    expect(run.main.outputs).toEqual({ result: 'refused', reason: run.main.errors[0], 'final-weight': '0' });
  });

  it.each([
    ['a syntax error', 'sum(rate(http_requests_total[1m]) /', /parse error: unclosed left parenthesis/],
    [
      'an unknown function',
      'rates(http_requests_total[1m])',
      /parse error: unknown function with name \\"rates\\"|unknown function with name "rates"/,
    ],
  ])('a query Prometheus rejects (%s), in Prometheus’ own words', async (_name, query, words) => {
    const started = performance.now();
    const run = await canaryRun({ canary: 'healthy' }, () => gate({ name: 'error-rate', query, max: 0.01 }));
    expect(run.main.code).not.toBe(0);
    expect(run.main.errors).toHaveLength(1);
    expect(run.main.errors[0]).toContain(`Input "gate": error-rate: query ${query}: Prometheus rejected it: invalid parameter "query": `);
    expect(run.main.errors[0]).toMatch(words);
    expect(run.stats.byVersion.canary).toBeUndefined();
    expect(run.servers).toEqual(run.originalUpstream);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('empty answers have one meaning each', () => {
  it('a ratio with no failure series yet reads 0 failures, so a healthy canary is promoted', async () => {
    const run = await canaryRun({ canary: 'healthy', lazyCounters: true }, () =>
      gate({ name: 'error-rate', query: errorRatio('canary', '1m').replace('code="500"', 'code=~"5.."'), max: 0.01 }),
    );
    expect(run.main.outputs.result, run.main.outputs.reason).toBe('promoted');
    expect(run.readings.some((r) => r.detail.includes('the numerator has no series yet'))).toBe(true);
  });

  it('too little traffic is not enough evidence yet: the canary is given time, not reverted, and the numbers are exact', async () => {
    const run = await canaryRun({ canary: 'healthy', rps: 30 }, () => ({
      steps: '10%:4s, 50%:10s, 100%',
      ...gate({
        name: 'error-rate',
        query: errorRatio('canary', '10s'),
        max: 0.02,
        'min-requests': 100,
        'requests-query': 'sum(increase(http_requests_total{instance=~"{canary-instances}"}[10s]))',
      }),
    }));
    expect(run.main.outputs.result, run.main.outputs.reason).toBe('promoted');
    const low = run.readings.find((r) => r.detail.startsWith('not enough traffic'))!;
    expect(low.detail).toMatch(/^not enough traffic yet: [\d.]+ requests \(requests-query\) is below min-requests 100$/);
    expect(run.report.steps[0]!.verdict).toBe('passed');
  });

  it('a canary whose total has no series while stable has data is silence, and silence is reverted', async () => {
    const run = await canaryRun({ canary: 'silent' }, () => ({ steps: '10%:30s, 50%:30s, 100%', ...gate(baselineRule) }));
    expect(run.main.outputs.result, run.main.outputs.reason).toBe('reverted');
    expect(run.main.outputs.reason).toMatch(
      /errors-vs-stable: no data for [\d.]+s, past the 8s grace: no canary traffic counted: total-query has no series/,
    );
    expect(run.servers).toEqual(run.originalUpstream.map((s) => `${s.split(' ')[0]} weight=100`));
  });
});

describe('the verdict', () => {
  it('never passes a hold whose last reading is out of bounds, whatever the failure-limit', async () => {
    const run = await canaryRun({ canary: 'errors', canaryErrorRate: 0.06 }, () => ({
      steps: '50%:4s, 100%',
      'max-extension': '3s',
      ...gate({ name: 'error-rate', query: errorRatio('canary', '10s'), max: 0.02, 'failure-limit': 100 }),
    }));
    expect(run.main.outputs.result, run.main.outputs.reason).toBe('reverted');
    expect(run.main.outputs.reason).toMatch(/^gate undecided at 50% after the 4s hold and [\d.]+s more: error-rate: out of bounds$/);
    expect(run.report.steps[0]!.verdict).toBe('undecided');
    expect(run.stats.byVersion.canary).toBeGreaterThan(0);
    expect(trafficStats(run.samples.filter((s) => s.at > run.decidedAt + 200)).byVersion.canary).toBeUndefined();
  });

  it('looks at every scrape: a 6% canary goes back to stable within two scrapes of the failures that decide it', async () => {
    const run = await canaryRun({ canary: 'errors', canaryErrorRate: 0.06 }, () => ({
      steps: '10%:20s, 50%:20s, 100%',
      ...gate(baselineRule),
    }));
    expect(run.main.outputs.result, run.main.outputs.reason).toBe('reverted');
    expect(run.main.outputs.reason).toContain('the canary fails more often than stable');
    expect(run.report.scrapeIntervalMs).toBe(1000);
    expect(run.report.lookEveryMs).toBe(500);
    // When the canary had served the failures the test weighed, and when traffic left it.
    const failing = run.readings.findLast((r) => r.comparison?.state === 'worse')!.comparison!.canary.failures;
    const canaryFailures = run.samples
      .filter((s: Sample) => s.version === 'canary' && s.status === 500)
      .sort((a, b) => a.doneAt - b.doneAt);
    const decidingFailureAt = canaryFailures[failing - 1]!.doneAt;
    const lastCanary = Math.max(...run.samples.filter((s) => s.version === 'canary').map((s) => s.at));
    expect(lastCanary - decidingFailureAt).toBeLessThan(2 * 1000 + 1000);
  });

  it('never promotes a canary failing 1.5% against stable’s 0.5% on the little evidence of 20 rps', async () => {
    const run = await canaryRun({ canary: 'healthy', backgroundErrorRate: 0.005, canaryErrorRate: 0.015, rps: 20 }, () => ({
      steps: '25%:30s, 50%:30s, 100%',
      'max-extension': '30s',
      ...gate(baselineRule),
    }));
    expect(run.main.outputs.result, run.main.outputs.reason).toBe('reverted');
    expect(run.servers).toEqual(run.originalUpstream.map((s) => `${s.split(' ')[0]} weight=100`));
    const last = run.readings.findLast((r) => r.comparison)!;
    if (last.comparison!.state !== 'worse')
      expect(run.main.outputs.reason).toMatch(/errors-vs-stable: inconclusive \(about [\d,]+ more canary requests would decide\)/);
  }, 180_000);

  it('finds a canary 30% slower at p95 than stable, with no bound in milliseconds', async () => {
    const run = await canaryRun({ canary: 'healthy', medianMs: 20, canaryLatencyFactor: 1.3, rps: 100 }, () => ({
      steps: '25%:20s, 50%:20s, 100%',
      ...gate(latencyRule),
    }));
    expect(run.main.outputs.result, run.main.outputs.reason).toBe('reverted');
    expect(run.main.outputs.reason).toContain('latency-vs-stable');
    expect(run.main.summary).toContain('latency-vs-stable');
  }, 120_000);
});

describe('counting', () => {
  it.each([
    ['one process per version', 1],
    ['two processes per version behind the router, each scraped', 2],
  ])(
    'weighs what the apps served (%s), through a restart of a stable and a canary process, and still promotes a healthy canary',
    async (_name, processes) => {
      const restarts: Array<Promise<void>> = [];
      const rule = { ...baselineRule, 'max-increase': 0.005 };
      const run = await canaryRun(
        { canary: 'healthy', rps: 200, processes },
        () => ({ steps: '50%:30s, 100%', ...gate(rule) }),
        {},
        (l) => {
          setTimeout(() => restarts.push(l.stableApps.at(-1)!.restart()), 9000);
          setTimeout(() => restarts.push(l.canaryApps[0]!.restart()), 15_000);
        },
      );
      await Promise.all(restarts);
      expect(run.main.outputs.result, run.main.outputs.reason).toBe('promoted');
      const looks = run.readings.filter((r) => r.comparison && r.comparison.canary.requests > 0);
      const first = run.readings.find((r) => r.comparison)!;
      const last = looks.at(-1)!;
      const t0 = Date.parse(run.report.startedAt);
      const served = (version: string) =>
        run.samples.filter((s) => s.version === version && s.doneAt >= t0 + first.at && s.doneAt <= t0 + last.at).length;
      // Within a scrape's traffic at each end of the span, and one more for each restart: a sum read
      // as one counter would have counted the other process's whole history again at the restart.
      expect(Math.abs(last.comparison!.canary.requests - served('canary'))).toBeLessThan(3 * 100);
      expect(Math.abs(last.comparison!.stable.requests - served('stable'))).toBeLessThan(3 * 100);
    },
    120_000,
  );
});
