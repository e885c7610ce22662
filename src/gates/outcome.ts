import type { ComparisonReading } from './readings.ts';

/** What one look at a rule found, before the gate applies grace, failure-limit and the hold's end. */
export type Outcome =
  /** Nothing to judge: no series, NaN, an outage. */
  | { kind: 'silent'; why: string }
  /** Data, but not evidence enough for a decision either way. */
  | { kind: 'inconclusive'; detail: string; value?: number; comparison?: ComparisonReading }
  /** A threshold rule's number against its bounds. */
  | { kind: 'measured'; within: boolean; value: number; limit: number | undefined; detail: string }
  /** A comparison with stable that reached a state. */
  | { kind: 'compared'; comparison: ComparisonReading; detail: string };
