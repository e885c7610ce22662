/** Failures and requests observed on one side over some span of time. */
export interface Counts {
  failures: number;
  requests: number;
}

export interface ComparisonSettings {
  /** The canary may fail at most this many times as often as stable. */
  maxRatio: number;
  /** Or at most this much more often, as a share of requests (0.001 = 0.1 percentage points). */
  maxIncrease: number;
  /** 1 − the error allowed to each decision. */
  confidence: number;
}

export type ComparisonState = 'worse' | 'not worse' | 'inconclusive';

interface Component {
  /** ln r of this alternative. */
  logRatio: number;
  logWeight: number;
  /** ln of its likelihood ratio so far. */
  llr: number;
}

const logSumExp = (values: number[]) => {
  const top = Math.max(...values);
  return top === -Infinity ? top : top + Math.log(values.reduce((s, v) => s + Math.exp(v - top), 0));
};

/** ln Γ(x) for x > 0 (Lanczos, g = 7): failures are whole numbers but nothing here needs them to be. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * ln of the Poisson–gamma mixture martingale for "the failure rate is λ", after `failures` in
 * `requests` (prior Gamma(1, b)): closed form, so the confidence sequence {λ : M(λ) < 1/γ} is
 * valid at every look at once (Ville's inequality). Under Bernoulli requests it is a
 * supermartingale too, since 1 + y ≤ eʸ.
 */
function logMixture(lambda: number, failures: number, requests: number, b: number): number {
  const a = 1;
  return (
    a * Math.log(b) -
    logGamma(a) +
    logGamma(a + failures) -
    (a + failures) * Math.log(b + requests) -
    failures * Math.log(lambda) +
    lambda * requests
  );
}

/** The anytime-valid confidence sequence of one side's failure rate at level 1 − γ. */
export function rateBounds(counts: Counts, gamma: number, b: number): { lower: number; upper: number } {
  const { failures: x, requests: n } = counts;
  if (n <= 0) return { lower: 0, upper: Infinity };
  const bound = Math.log(1 / gamma);
  const outside = (lambda: number) => logMixture(lambda, x, n, b) >= bound;
  const mle = x / n;
  // Above the estimate M grows with λ; find where it crosses.
  let lo = mle;
  let hi = Math.max(mle * 2, 1 / n);
  while (!outside(hi)) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (outside(mid)) hi = mid;
    else lo = mid;
  }
  const upper = hi;
  if (x === 0) return { lower: 0, upper };
  lo = 0;
  hi = mle;
  if (!outside(Number.MIN_VALUE)) return { lower: 0, upper };
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (outside(mid)) lo = mid;
    else hi = mid;
  }
  return { lower: lo, upper };
}

/**
 * Alternatives on a log grid with steps of ½ ln R: the worse test's r = √R, R, R^1.5 … up to about
 * 1000 (so a crash is caught in a few failures), the not-worse test's √R, 1, 1/√R … down to 1/100.
 * Fixed prior weights, heaviest at R (worse) and at 1 (not worse): the cases the rule is written for.
 */
function grid(maxRatio: number, direction: 'worse' | 'not worse'): Component[] {
  const step = Math.log(maxRatio) / 2;
  const list: Array<{ logRatio: number; weight: number }> = [];
  if (direction === 'worse') {
    for (let k = 1; k <= 24 && k * step <= Math.log(1000) + 1e-9; k++) list.push({ logRatio: k * step, weight: 1 / (1 + (k - 2) ** 2) });
  } else {
    for (let k = 1; k <= 24 && 2 * step - k * step >= -Math.log(100) - 1e-9; k++) {
      list.push({ logRatio: 2 * step - k * step, weight: 1 / (1 + (k - 2) ** 2) });
    }
  }
  const total = list.reduce((s, c) => s + c.weight, 0);
  return list.map((c) => ({ logRatio: c.logRatio, logWeight: Math.log(c.weight / total), llr: 0 }));
}

/** The share of the failures the canary takes when it fails r times as often as stable. */
const share = (logRatio: number, canary: number, stable: number) => {
  const r = Math.exp(logRatio);
  return (r * canary) / (r * canary + stable);
};

/**
 * Canary against stable on failure counts, with three outcomes and error rates that hold at every
 * look, however long the ramp runs.
 *
 * Conditioned on the m failures both sides served in an increment, each landed on the canary with
 * probability π(r) = r·n_c / (r·n_c + n_b), where n_c and n_b are the requests each side served and
 * r is the canary's failure rate over stable's. Background failures both share cancel out, and the
 * split may change from step to step.
 *
 * - worse: a mixture of likelihood ratios over r > 1 (r = √R, R, R^1.5 …) against r = 1. Each is a
 *   supermartingale whenever r ≤ 1 (the ratio rises with the canary's share of failures), so by
 *   Ville's inequality an equal or better canary reaches 1/α with probability at most α, at any look.
 * - not worse: the same over r < R against r = R, reaching 2/β; or an absolute margin: the
 *   canary's rate at most `maxIncrease` above stable's, shown by anytime-valid confidence sequences
 *   of each side's rate (β/4 each), so two sides with no failures at all become promotable. A canary
 *   both R times and `maxIncrease` worse is called not worse with probability at most β.
 * - otherwise inconclusive.
 *
 * No floor, no reset: the evidence is everything counted since the ramp began.
 */
export class SequentialComparison {
  readonly settings: ComparisonSettings;
  /** ln(1/α): the worse test's boundary. */
  readonly worseBound: number;
  /** ln(2/β): the not-worse test's boundary. */
  readonly notWorseBound: number;
  private readonly worseGrid: Component[];
  private readonly notWorseGrid: Component[];
  private readonly priorRequests: number;
  private decidedWorse = false;
  private cached: { margin?: SequentialComparison['margin']; more?: number | undefined; moreKnown?: boolean } = {};
  /** The counts the test weighed: increments where a side served nothing are left out. */
  canary: Counts = { failures: 0, requests: 0 };
  stable: Counts = { failures: 0, requests: 0 };

  constructor(settings: ComparisonSettings) {
    this.settings = settings;
    const alpha = 1 - settings.confidence;
    this.worseBound = Math.log(1 / alpha);
    this.notWorseBound = Math.log(2 / alpha);
    this.worseGrid = grid(settings.maxRatio, 'worse');
    this.notWorseGrid = grid(settings.maxRatio, 'not worse');
    // The rate prior's mean is the margin itself: tight where the margin decides.
    this.priorRequests = 1 / settings.maxIncrease;
  }

  /** Adds one increment; returns false when it carries no comparison (a side served nothing). */
  add(canary: Counts, stable: Counts): boolean {
    if (!(canary.requests > 0 && stable.requests > 0)) return false;
    this.canary = { failures: this.canary.failures + canary.failures, requests: this.canary.requests + canary.requests };
    this.stable = { failures: this.stable.failures + stable.failures, requests: this.stable.requests + stable.requests };
    if (canary.failures + stable.failures > 0) {
      const equal = share(0, canary.requests, stable.requests);
      const atMax = share(Math.log(this.settings.maxRatio), canary.requests, stable.requests);
      for (const c of this.worseGrid) {
        const p = share(c.logRatio, canary.requests, stable.requests);
        c.llr += canary.failures * Math.log(p / equal) + stable.failures * Math.log((1 - p) / (1 - equal));
      }
      for (const c of this.notWorseGrid) {
        const p = share(c.logRatio, canary.requests, stable.requests);
        c.llr += canary.failures * Math.log(p / atMax) + stable.failures * Math.log((1 - p) / (1 - atMax));
      }
    }
    if (this.worseEvidence >= this.worseBound) this.decidedWorse = true;
    this.cached = {};
    return true;
  }

  /** ln of the e-value that the canary fails more often than stable. */
  get worseEvidence(): number {
    return logSumExp(this.worseGrid.map((c) => c.logWeight + c.llr));
  }

  /** ln of the e-value that it fails less than maxRatio times as often. */
  get notWorseEvidence(): number {
    return logSumExp(this.notWorseGrid.map((c) => c.logWeight + c.llr));
  }

  /** Each side's rate bounds for the absolute margin, and whether they show it. */
  get margin(): { canaryUpper: number; stableLower: number; within: boolean } {
    return (this.cached.margin ??= this.computeMargin());
  }

  private computeMargin(): { canaryUpper: number; stableLower: number; within: boolean } {
    const gamma = (1 - this.settings.confidence) / 4;
    const canaryUpper = rateBounds(this.canary, gamma, this.priorRequests).upper;
    const stableLower = rateBounds(this.stable, gamma, this.priorRequests).lower;
    return { canaryUpper, stableLower, within: canaryUpper - stableLower <= this.settings.maxIncrease };
  }

  get state(): ComparisonState {
    if (this.decidedWorse) return 'worse';
    if (this.canary.requests > 0 && (this.notWorseEvidence >= this.notWorseBound || this.margin.within)) return 'not worse';
    return 'inconclusive';
  }

  /**
   * About how many more canary requests a decision would take if traffic went on as it has (same
   * rates, same split): the smallest k for which k times the evidence so far crosses a boundary.
   * Undefined with no evidence to extrapolate, or when even a million times as much would not do.
   */
  moreRequestsNeeded(): number | undefined {
    if (!this.cached.moreKnown) this.cached = { ...this.cached, more: this.computeMoreRequests(), moreKnown: true };
    return this.cached.more;
  }

  private computeMoreRequests(): number | undefined {
    if (this.state !== 'inconclusive' || this.canary.requests === 0) return undefined;
    const crosses = (k: number) =>
      logSumExp(this.worseGrid.map((c) => c.logWeight + k * c.llr)) >= this.worseBound ||
      logSumExp(this.notWorseGrid.map((c) => c.logWeight + k * c.llr)) >= this.notWorseBound ||
      this.scaledMarginWithin(k);
    let hi = 2;
    while (!crosses(hi)) {
      hi *= 2;
      if (hi > 1e6) return undefined;
    }
    let lo = hi / 2;
    for (let i = 0; i < 30; i++) {
      const mid = (lo + hi) / 2;
      if (crosses(mid)) hi = mid;
      else lo = mid;
    }
    return Math.ceil((hi - 1) * this.canary.requests);
  }

  private scaledMarginWithin(k: number): boolean {
    const gamma = (1 - this.settings.confidence) / 4;
    const scale = (c: Counts) => ({ failures: c.failures * k, requests: c.requests * k });
    return (
      rateBounds(scale(this.canary), gamma, this.priorRequests).upper - rateBounds(scale(this.stable), gamma, this.priorRequests).lower <=
      this.settings.maxIncrease
    );
  }
}

/**
 * The canary requests with no failure on either side after which the absolute margin alone shows
 * "not worse" (the README quotes it at the defaults; a unit test pins it).
 */
export function cleanRequestsToPass(settings: ComparisonSettings): number {
  const gamma = (1 - settings.confidence) / 4;
  const within = (n: number) => rateBounds({ failures: 0, requests: n }, gamma, 1 / settings.maxIncrease).upper <= settings.maxIncrease;
  let hi = 1;
  while (!within(hi)) hi *= 2;
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (within(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
