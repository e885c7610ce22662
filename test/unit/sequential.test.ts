import { describe, expect, it } from 'vitest';
import { FailureRateTest } from '../../src/gates/sequential.ts';

/** A small deterministic generator so the statistics below are the same on every run. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function binomial(n: number, p: number, next: () => number) {
  let k = 0;
  for (let i = 0; i < n; i++) if (next() < p) k++;
  return k;
}

/** One simulated ramp at 200 rps, 25% then 50% for 30 s each, looking every 2 s. */
function ramp(canaryRate: number, baselineRate: number, seed: number): boolean {
  const next = random(seed);
  const test = new FailureRateTest(2, 0.99);
  for (const weight of [25, 50]) {
    for (let t = 0; t < 30; t += 2) {
      const canary = binomial(400, weight / 100, next);
      test.add(
        { requests: canary, failures: binomial(canary, canaryRate, next) },
        { requests: 400 - canary, failures: binomial(400 - canary, baselineRate, next) },
      );
      if (test.canaryIsWorse) return true;
    }
  }
  return false;
}

describe('FailureRateTest', () => {
  it('rarely reverts a canary as good as stable, whatever the shared noise', () => {
    const reverted = Array.from({ length: 200 }, (_, seed) => ramp(0.005, 0.005, seed)).filter(Boolean).length;
    expect(reverted).toBeLessThanOrEqual(4);
  });

  it('catches a canary failing 3x as often as stable (1.5% against 0.5%)', () => {
    const caught = Array.from({ length: 200 }, (_, seed) => ramp(0.015, 0.005, 1000 + seed)).filter(Boolean).length;
    expect(caught).toBeGreaterThanOrEqual(196);
  });

  it('banks no credit: the ratio is floored, so a later regression is still caught', () => {
    const test = new FailureRateTest(2, 0.99);
    for (let i = 0; i < 100; i++) test.add({ requests: 500, failures: 0 }, { requests: 500, failures: 5 });
    expect(test.llr).toBe(test.lower);
    let looks = 0;
    while (!test.canaryIsWorse && looks < 20) {
      test.add({ requests: 500, failures: 15 }, { requests: 500, failures: 2 });
      looks++;
    }
    expect(looks).toBeLessThanOrEqual(3);
  });

  it('draws no conclusion from an increment where one side served nothing', () => {
    const test = new FailureRateTest(2, 0.99);
    test.add({ requests: 1000, failures: 1000 }, { requests: 0, failures: 0 });
    expect(test.llr).toBe(0);
    expect(test.canary).toEqual({ requests: 1000, failures: 1000 });
  });
});
