/** Failures and requests observed on one side over some span of time. */
export interface Counts {
  failures: number;
  requests: number;
}

/** The log-likelihood ratio at which the test decides the canary is worse, for a confidence. */
export function rejectionBound(confidence: number): number {
  const alpha = 1 - confidence;
  return Math.log((1 - alpha) / alpha);
}

/**
 * Wald's sequential probability ratio test of "the canary fails as often as the baseline" against
 * "the canary fails maxRatio times as often", on failure counts.
 *
 * Conditioned on the failures seen in an increment, each one landed on the canary with probability
 * π = r·n_c / (r·n_c + n_b), where n_c and n_b are the requests each side served in that increment
 * and r is 1 under the null hypothesis and maxRatio under the alternative. Taking π per increment
 * keeps the test exact while the traffic split changes step by step, and it needs no assumption
 * about the baseline's own failure rate: background noise shared by both sides cancels out.
 *
 * The log-likelihood ratio is floored at the acceptance bound, so a long run of good evidence
 * cannot bank enough credit to hide a later regression.
 */
export class FailureRateTest {
  readonly upper: number;
  readonly lower: number;
  private readonly logRatio: number;
  llr = 0;
  canary: Counts = { failures: 0, requests: 0 };
  baseline: Counts = { failures: 0, requests: 0 };

  constructor(maxRatio: number, confidence: number) {
    this.upper = rejectionBound(confidence);
    this.lower = -this.upper;
    this.logRatio = Math.log(maxRatio);
  }

  /** Adds one increment of counts; increments where either side served nothing carry no comparison. */
  add(canary: Counts, baseline: Counts): void {
    this.canary = { failures: this.canary.failures + canary.failures, requests: this.canary.requests + canary.requests };
    this.baseline = { failures: this.baseline.failures + baseline.failures, requests: this.baseline.requests + baseline.requests };
    if (canary.requests <= 0 || baseline.requests <= 0) return;
    const share = canary.requests / (canary.requests + baseline.requests);
    const ratio = Math.exp(this.logRatio);
    const shareIfWorse = (ratio * canary.requests) / (ratio * canary.requests + baseline.requests);
    this.llr += canary.failures * Math.log(shareIfWorse / share) + baseline.failures * Math.log((1 - shareIfWorse) / (1 - share));
    this.llr = Math.max(this.llr, this.lower);
  }

  get canaryIsWorse(): boolean {
    return this.llr >= this.upper;
  }
}
