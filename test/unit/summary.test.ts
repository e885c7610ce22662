import { describe, expect, it } from 'vitest';
import type { CanaryReport } from '../../src/canary/ramp.ts';
import { canarySummary } from '../../src/canary/summary.ts';

const reading = (at: number, weight: number, value: number, status: 'pass' | 'fail' = 'pass') => ({
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
  steps: [
    {
      weight: 10,
      holdMs: 20_000,
      startedAt: 0,
      endedAt: 20_000,
      verdict: 'passed',
      readings: [reading(2000, 10, 0), reading(20_000, 10, 0.01)],
    },
    { weight: 50, holdMs: 20_000, startedAt: 20_000, endedAt: 24_000, verdict: 'failed', readings: [reading(22_000, 50, 0.3, 'fail')] },
  ],
};

describe('canarySummary', () => {
  it('gives the decision, a row per step with each reading against its bound, and charts', () => {
    const markdown = canarySummary(report, ['error-rate']);
    expect(markdown).toContain('### ↩️ Canary reverted\ngate failed at 50%: error-rate: 0.3 above max 0.02.');
    expect(markdown).toContain('All traffic is on the stable version.');
    expect(markdown).toContain('| Step | Weight | Held | error-rate | Verdict |');
    expect(markdown).toContain('| 1 | 10% | 20s of 20s | ✅ 0.01 (≤ 0.02, 2 readings) | ✅ passed |');
    expect(markdown).toContain('| 2 | 50% | 4s of 20s | ❌ 0.3 (≤ 0.02, 1 readings) | ❌ gate failed |');
    expect(markdown).toContain('Ramp took 24s for 40s of holds; final canary weight 0%.');
    expect(markdown).toContain(
      'x-axis "seconds since start" [2.0, 20.0, 22.0, 24.0]\n  y-axis "weight %" 0 --> 100\n  line [10, 10, 50, 0]',
    );
    expect(markdown).toContain('x-axis "seconds since start" [2.0, 20.0, 22.0]\n  y-axis "value" 0 --> 0.33');
    expect(markdown).toContain('line [0, 0.01, 0.3]\n  line [0.02, 0.02, 0.02]');
  });

  it('says loudly when traffic could not be put back', () => {
    expect(canarySummary({ ...report, stableRestored: false }, ['error-rate'])).toContain(
      '**Traffic could not be put back on stable: check the router now.**',
    );
  });
});
