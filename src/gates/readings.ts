import type { ComparisonState, Counts } from './sequential.ts';

/**
 * pass: within bounds, or not worse than stable · breach: out of bounds, under failure-limit ·
 * fail: the gate fails (out of bounds, worse than stable, silence past the grace) ·
 * inconclusive: data, but not enough evidence yet (too little traffic, an undecided comparison) ·
 * no-data: silence inside the grace · delayed: before initial-delay.
 */
export type RuleStatus = 'pass' | 'breach' | 'fail' | 'inconclusive' | 'no-data' | 'delayed';

/** What a comparison with stable shows at one look; `report` carries it as it is. */
export interface ComparisonReading {
  state: ComparisonState;
  /** The counts the test weighed, since the ramp began (for latency rules, "failures" are slow requests). */
  canary: Counts;
  stable: Counts;
  /** ln of the evidence that the canary is worse, and the boundary at which it is reverted (ln 1/α). */
  worse: { evidence: number; bound: number };
  /** ln of the evidence that it is within max-ratio, and the boundary at which that is shown (ln 2/β). */
  notWorse: { evidence: number; bound: number };
  /** Anytime-valid bounds of the canary's rate (upper) and stable's (lower), against max-increase. */
  margin: { canaryUpper: number; stableLower: number; maxIncrease: number };
  /** About how many more canary requests a decision would need, from the evidence so far. */
  moreRequests?: number;
  /** Latency rules: the bucket boundary (seconds) at stable's quantile that splits slow from fast. */
  slowerThan?: number;
}

export interface RuleReading {
  rule: string;
  /** Milliseconds since the ramp started. */
  at: number;
  weight: number;
  status: RuleStatus;
  /** Threshold rules: the number compared with the bound. */
  value?: number;
  /** The bound `value` is held to, for charts. */
  limit?: number;
  /** The bound as people read it: `≤ 0.05`, `0.1 … 0.5`, `within 2× of stable`. */
  bound: string;
  detail: string;
  comparison?: ComparisonReading;
}

/** A rule's state as the ramp reports it: a comparison's three outcomes, a threshold's status. */
export function ruleState(reading: RuleReading): ComparisonState | RuleStatus {
  return reading.comparison && reading.status !== 'no-data' && reading.status !== 'delayed' ? reading.comparison.state : reading.status;
}
