import { describe, expect, it } from 'vitest';
import type { CanaryReport } from '../../src/canary/ramp.ts';
import { canarySummary } from '../../src/canary/summary.ts';
import type { ComparisonReading, RuleReading } from '../../src/gates/readings.ts';

const reading = (at: number, weight: number, value: number, status: 'pass' | 'fail' = 'pass'): RuleReading => ({
  rule: 'error-rate',
  at,
  weight,
  status,
  value,
  limit: 0.02,
  bound: '≤ 0.02',
  detail: status === 'fail' ? `${value} above max 0.02` : `${value} within ≤ 0.02`,
});

const report: CanaryReport = {
  result: 'reverted',
  reason: 'gate failed at 50%: error-rate: 0.3 above max 0.02',
  finalWeight: 0,
  stableRestored: true,
  startedAt: '2026-12-04T10:00:00.000Z',
  durationMs: 24_000,
  plannedHoldMs: 40_000,
  scrapeIntervalMs: 1000,
  lookEveryMs: 500,
  steps: [
    {
      weight: 10,
      holdMs: 20_000,
      startedAt: 0,
      endedAt: 20_000,
      extendedMs: 0,
      verdict: 'passed',
      readings: [reading(2000, 10, 0), reading(20_000, 10, 0.03943557478841183)],
    },
    {
      weight: 50,
      holdMs: 20_000,
      startedAt: 20_000,
      endedAt: 24_000,
      extendedMs: 0,
      verdict: 'failed',
      readings: [reading(22_000, 50, 0.3, 'fail')],
    },
  ],
};

const comparison = (state: ComparisonReading['state'], canaryFailures: number, requests: number): ComparisonReading => ({
  state,
  canary: { failures: canaryFailures, requests },
  stable: { failures: 45, requests: requests * 9 },
  worse: { evidence: Math.log(3.2), bound: Math.log(100) },
  notWorse: { evidence: Math.log(0.5), bound: Math.log(200) },
  margin: { canaryUpper: 0.0123456, stableLower: 0.0031, maxIncrease: 0.001 },
  moreRequests: state === 'inconclusive' ? 12_345 : undefined,
});

describe('canarySummary', () => {
  it('gives the decision, a row per step with each reading against its bound, and charts on an even time grid', () => {
    const markdown = canarySummary(report, ['error-rate']);
    expect(markdown).toContain('### ↩️ Canary reverted\ngate failed at 50%: error-rate: 0.3 above max 0.02.');
    expect(markdown).toContain('All traffic is on the stable version.');
    expect(markdown).toContain('| Step | Weight | Held | error-rate | Verdict |');
    expect(markdown).toContain('| 1 | 10% | 20s of 20s | ✅ 0.03944 (≤ 0.02, 2 readings) | ✅ passed |');
    // A failed cell says why.
    expect(markdown).toContain('| 2 | 50% | 4s of 20s | ❌ 0.3 above max 0.02 (1 reading) | ❌ gate failed |');
    expect(markdown).toContain(
      'Ramp took 24s for 40s of holds; final canary weight 0%. Comparisons with stable looked every 500ms (Prometheus scrapes every 1s).',
    );
    const weightChart = markdown.slice(markdown.indexOf('Canary weight'));
    const labels = /x-axis "seconds since start" \[(.*)\]/.exec(weightChart)![1]!.split(', ');
    expect(labels.length).toBeLessThanOrEqual(24);
    expect(labels[0]).toBe('"0"');
    expect(labels.at(-1)).toBe('"24"');
    // Evenly spaced: every step between labels is the same time.
    const seconds = labels.map((l) => Number(l.replace(/"/g, '')));
    const gaps = seconds.slice(1).map((s, i) => s - seconds[i]!);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThan(0.01);
    expect(markdown).not.toContain('0.039435');
  });

  it('shows each comparison’s state, counts per side, rates and the evidence against both boundaries', () => {
    const steps = [10, 20, 30].map((s, i) => ({
      rule: 'errors-vs-stable',
      at: s * 1000,
      weight: 50,
      status: 'inconclusive' as const,
      bound: 'within 2× or +0.1 pp of stable',
      detail: '…',
      comparison: comparison('inconclusive', 3 + i, 1000 * (i + 1)),
    }));
    const markdown = canarySummary(
      { ...report, result: 'reverted', durationMs: 30_000, steps: [{ ...report.steps[0]!, verdict: 'undecided', readings: steps }] },
      ['errors-vs-stable'],
    );
    expect(markdown).toContain(
      '❔ inconclusive: canary 5/3,000 \\(0.1667%\\) vs stable 45/27,000 \\(0.1667%\\); worse 3.2 of 100, not worse 0.5 of 200; about 12,345 more canary requests to decide (3 readings)',
    );
    expect(markdown).toContain(
      '| errors-vs-stable | ❔ inconclusive | 5/3,000 (0.1667%) | 45/27,000 (0.1667%) | 3.2 (reverts at 100) | 0.5 (passes at 200) |',
    );
    expect(markdown).toContain('about 12,345 |');
    expect(markdown).toContain('log10 evidence worse (up) and not worse (down)');
    expect(markdown).toMatch(/ {2}line \[2, 2, .*\]\n {2}line \[0.301, 0.301/);
  });

  it('shows outside text as text', () => {
    const markdown = canarySummary({ ...report, reason: 'gate failed: x: no data: [click](http://evil) <img src=x>' }, ['error-rate']);
    expect(markdown).toContain('\\[click\\]\\(http://evil\\) &lt;img src=x&gt;');
  });

  it('says loudly when traffic could not be put back', () => {
    expect(canarySummary({ ...report, stableRestored: false }, ['error-rate'])).toContain(
      '**Traffic could not be put back on stable: check the router now.**',
    );
  });
});
