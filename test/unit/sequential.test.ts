import { describe, expect, it } from 'vitest';
import { cleanRequestsToPass, rateBounds, SequentialComparison } from '../../src/gates/sequential.ts';

const DEFAULTS = { maxRatio: 2, maxIncrease: 0.001, confidence: 0.99 };

/** A small deterministic generator so the statistics below are the same on every run. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

function poisson(mean: number, next: () => number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = next();
  while (u > cumulative && k < 10_000) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

/** One side's increment: Poisson requests, each failing with probability `rate`. */
function served(mean: number, rate: number, next: () => number) {
  const requests =
    mean > 200
      ? Math.round(mean + Math.sqrt(mean) * Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next()))
      : poisson(mean, next);
  return { requests, failures: poisson(requests * rate, next) };
}

/** A ramp at `rps`, each step [weight %, seconds], looking every `lookS`; the state at the end (or when worse). */
function ramp(canaryRate: number, stableRate: number, rps: number, steps: Array<[number, number]>, seed: number, lookS = 2) {
  const next = random(seed);
  const test = new SequentialComparison(DEFAULTS);
  for (const [weight, seconds] of steps) {
    for (let t = 0; t < seconds; t += lookS) {
      test.add(served((rps * lookS * weight) / 100, canaryRate, next), served((rps * lookS * (100 - weight)) / 100, stableRate, next));
      if (test.state === 'worse') return test;
    }
  }
  return test;
}

const outcomes = (runs: number, run: (seed: number) => SequentialComparison) => {
  const counts = { worse: 0, 'not worse': 0, inconclusive: 0 };
  for (let seed = 1; seed <= runs; seed++) counts[run(seed).state]++;
  return counts;
};

describe('SequentialComparison', () => {
  it('reverts an equal canary rarely, however long it looks (10% of 200 rps, a look every 7.5 s for an hour)', () => {
    const { worse } = outcomes(300, (seed) => ramp(0.005, 0.005, 200, [[10, 3600]], seed * 7919, 7.5));
    expect(worse).toBeLessThanOrEqual(3);
  });

  it('catches a canary failing 3x as often as stable (1.5% against 0.5%, 200 rps, 25% then 50% for 30 s)', () => {
    const { worse } = outcomes(200, (seed) =>
      ramp(
        0.015,
        0.005,
        200,
        [
          [25, 30],
          [50, 30],
        ],
        1000 + seed,
      ),
    );
    expect(worse).toBeGreaterThanOrEqual(190);
  });

  it('never calls that canary not worse on the little evidence of 20 rps', () => {
    const result = outcomes(200, (seed) =>
      ramp(
        0.015,
        0.005,
        20,
        [
          [25, 30],
          [50, 60],
        ],
        5000 + seed,
      ),
    );
    expect(result['not worse']).toBe(0);
  });

  it('calls an equal canary not worse once the evidence suffices (10% then 50% of 100 rps, 5 min each)', () => {
    const result = outcomes(200, (seed) =>
      ramp(
        0.005,
        0.005,
        100,
        [
          [10, 300],
          [50, 300],
        ],
        9000 + seed,
        7.5,
      ),
    );
    expect(result['not worse']).toBeGreaterThanOrEqual(180);
  });

  it('still finds a clearly broken canary quickly after a long good spell (no floor needed at these rates)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      const test = new SequentialComparison(DEFAULTS);
      for (let t = 0; t < 300; t += 2) test.add(served(40, 0.005, next), served(360, 0.005, next));
      let seconds = 0;
      while (test.state !== 'worse' && seconds < 120) {
        test.add(served(200, 0.06, next), served(200, 0.005, next));
        seconds += 2;
      }
      expect(seconds).toBeLessThanOrEqual(30);
    }
  });

  it('draws no conclusion from an increment where one side served nothing, and does not count it', () => {
    const test = new SequentialComparison(DEFAULTS);
    expect(test.add({ requests: 1000, failures: 1000 }, { requests: 0, failures: 0 })).toBe(false);
    expect(test.worseEvidence).toBeCloseTo(0, 12);
    expect(test.canary).toEqual({ requests: 0, failures: 0 });
  });

  it('shows two sides with no failures not worse after a fixed number of clean canary requests', () => {
    const needed = cleanRequestsToPass(DEFAULTS);
    // The README quotes this number for the defaults.
    expect(needed).toBe(8212);
    const test = new SequentialComparison(DEFAULTS);
    test.add({ requests: needed - 1, failures: 0 }, { requests: 50_000, failures: 0 });
    expect(test.state).toBe('inconclusive');
    expect(test.moreRequestsNeeded()).toBeGreaterThanOrEqual(1);
    expect(test.moreRequestsNeeded()).toBeLessThanOrEqual(10);
    test.add({ requests: 1, failures: 0 }, { requests: 10, failures: 0 });
    expect(test.state).toBe('not worse');
  });

  it('estimates the canary requests still needed from the evidence so far', () => {
    const test = new SequentialComparison(DEFAULTS);
    test.add({ requests: 2000, failures: 0 }, { requests: 18_000, failures: 0 });
    const more = test.moreRequestsNeeded()!;
    expect(more).toBeGreaterThan(8212 - 2000 - 500);
    expect(more).toBeLessThan(8212 - 2000 + 500);
  });
});

describe('rateBounds', () => {
  it('matches the closed form with no failures: (ln 1/γ + ln(1 + n/b)) / n', () => {
    const { lower, upper } = rateBounds({ failures: 0, requests: 10_000 }, 0.0025, 1000);
    expect(lower).toBe(0);
    expect(upper).toBeCloseTo((Math.log(1 / 0.0025) + Math.log(1 + 10_000 / 1000)) / 10_000, 8);
  });

  it('covers the true rate at every look in nearly every run', () => {
    let missed = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const counts = { failures: 0, requests: 0 };
      for (let look = 0; look < 100; look++) {
        const inc = served(500, 0.01, next);
        counts.failures += inc.failures;
        counts.requests += inc.requests;
        const { lower, upper } = rateBounds(counts, 0.01, 1000);
        if (lower > 0.01 || upper < 0.01) {
          missed++;
          break;
        }
      }
    }
    expect(missed).toBeLessThanOrEqual(2);
  });
});
