import type { MetricsProvider, Reading } from '../metrics/provider.ts';
import { hasValue } from '../metrics/provider.ts';
import type { BaselineRule, GateRule, ThresholdRule } from './rules.ts';
import { FailureRateTest, rejectionBound } from './sequential.ts';

/**
 * pass: within bounds · breach: out of bounds, under failure-limit · fail: the gate fails ·
 * no-data: not evidence yet (inside the grace) · delayed: before initial-delay.
 */
export type RuleStatus = 'pass' | 'breach' | 'fail' | 'no-data' | 'delayed';

export interface RuleReading {
  rule: string;
  /** Milliseconds since the ramp started. */
  at: number;
  weight: number;
  status: RuleStatus;
  /** The number compared with the bound: the query's value, or the test's log-likelihood ratio. */
  value?: number;
  /** The bound `value` is held to, for charts. */
  limit?: number;
  /** The bound as people read it: `≤ 0.05`, `0.1 … 0.5`, `LLR < 4.6`. */
  bound: string;
  detail: string;
}

export interface GateVerdict {
  /** fail: revert now · wait: some rule has no evidence yet, look again soon · pass: all within bounds. */
  status: 'pass' | 'wait' | 'fail';
  readings: RuleReading[];
  reason?: string;
}

export interface EvaluationContext {
  /** Milliseconds since the ramp started (the first weight change). */
  now: number;
  weight: number;
  /** When the current weight was set, on the same clock as `now`. */
  weightSetAt: number;
  /** The last look of a hold: silence now fails instead of waiting. */
  endOfHold: boolean;
  signal?: AbortSignal;
}

interface RuleState {
  breaches: number;
  lastDataAt: number | undefined;
  test?: FailureRateTest;
  counters?: Counters;
}

interface Counters {
  canaryFailures: number;
  canaryRequests: number;
  baselineFailures: number;
  baselineRequests: number;
}

type Outcome = { noData: string } | { withinBounds: boolean; reading: Pick<RuleReading, 'value' | 'limit' | 'bound' | 'detail'> };

const round = (n: number) => Number(n.toPrecision(4));

export function thresholdBound(rule: ThresholdRule): string {
  if (rule.min !== undefined && rule.max !== undefined) return `${rule.min} … ${rule.max}`;
  return rule.max !== undefined ? `≤ ${rule.max}` : `≥ ${rule.min}`;
}

/**
 * Evaluates every rule of the gate against the metrics provider and turns the readings into one
 * verdict, applying failure-limit, initial-delay, min-requests and the no-data policy: silence right
 * after a weight change is not evidence, but silence past the grace, or at the end of a hold, fails.
 */
export class Gate {
  private readonly state = new Map<string, RuleState>();
  readonly rules: readonly GateRule[];
  private readonly metrics: MetricsProvider;
  private readonly intervalMs: number;

  constructor(rules: readonly GateRule[], metrics: MetricsProvider, intervalMs: number) {
    this.rules = rules;
    this.metrics = metrics;
    this.intervalMs = intervalMs;
    for (const rule of rules) this.state.set(rule.name, { breaches: 0, lastDataAt: undefined });
  }

  async evaluate(context: EvaluationContext): Promise<GateVerdict> {
    const readings = await Promise.all(this.rules.map((rule) => this.evaluateRule(rule, context)));
    const failed = readings.find((r) => r.status === 'fail');
    if (failed) return { status: 'fail', readings, reason: `${failed.rule}: ${failed.detail}` };
    return { status: readings.some((r) => r.status === 'no-data') ? 'wait' : 'pass', readings };
  }

  private async evaluateRule(rule: GateRule, context: EvaluationContext): Promise<RuleReading> {
    const base = { rule: rule.name, at: context.now, weight: context.weight };
    if (context.now < rule['initial-delay']) {
      return { ...base, status: 'delayed', bound: boundOf(rule), detail: `initial delay until ${rule['initial-delay'] / 1000}s` };
    }
    const state = this.state.get(rule.name)!;
    const outcome =
      rule.kind === 'threshold' ? await this.readThreshold(rule, context.signal) : await this.readBaseline(rule, state, context.signal);
    if ('noData' in outcome) return { ...base, ...this.silence(rule, state, context, outcome.noData) };
    state.lastDataAt = context.now;
    if (outcome.withinBounds) {
      state.breaches = 0;
      return { ...base, ...outcome.reading, status: 'pass' };
    }
    state.breaches += 1;
    const limit = rule['failure-limit'];
    const status = state.breaches >= limit ? 'fail' : 'breach';
    const count = limit > 1 ? ` (${state.breaches} of ${limit} in a row)` : '';
    return { ...base, ...outcome.reading, status, detail: `${outcome.reading.detail}${count}` };
  }

  private silence(rule: GateRule, state: RuleState, context: EvaluationContext, why: string): Omit<RuleReading, 'rule' | 'at' | 'weight'> {
    const graceMs = rule['no-data-limit'] * this.intervalMs;
    const since = Math.max(state.lastDataAt ?? -Infinity, context.weightSetAt);
    const silentFor = context.now - since;
    const bound = boundOf(rule);
    if (context.endOfHold) return { status: 'fail', bound, detail: `no data at the end of the hold (${why})` };
    if (silentFor >= graceMs) {
      return { status: 'fail', bound, detail: `no data for ${(silentFor / 1000).toFixed(1)}s, past the ${graceMs / 1000}s grace (${why})` };
    }
    return { status: 'no-data', bound, detail: why };
  }

  private async readThreshold(rule: ThresholdRule, signal?: AbortSignal): Promise<Outcome> {
    const [reading, requests] = await Promise.all([
      this.metrics.query(rule.query, signal),
      rule['requests-query'] ? this.metrics.query(rule['requests-query'], signal) : undefined,
    ]);
    if (!hasValue(reading)) return { noData: reading.noData };
    if (requests && rule['min-requests'] !== undefined) {
      if (!hasValue(requests)) return { noData: `requests-query: ${requests.noData}` };
      if (requests.value < rule['min-requests']) {
        return { noData: `${Math.round(requests.value)} requests, below min-requests ${rule['min-requests']}` };
      }
    }
    const value = reading.value;
    const tooHigh = rule.max !== undefined && value > rule.max;
    const tooLow = rule.min !== undefined && value < rule.min;
    const bound = thresholdBound(rule);
    const detail = tooHigh
      ? `${round(value)} above max ${rule.max}`
      : tooLow
        ? `${round(value)} below min ${rule.min}`
        : `${round(value)} within ${bound}`;
    return {
      withinBounds: !tooHigh && !tooLow,
      reading: { value, limit: tooLow || rule.max === undefined ? rule.min : rule.max, bound, detail },
    };
  }

  private async readBaseline(rule: BaselineRule, state: RuleState, signal?: AbortSignal): Promise<Outcome> {
    const [cf, cr, bf, br] = await Promise.all(
      [rule.query, rule['total-query'], rule['baseline-query'], rule['baseline-total-query']].map((q) => this.metrics.query(q, signal)),
    );
    if (!hasValue(cr!)) return { noData: `total-query: ${(cr as { noData: string }).noData}` };
    if (!hasValue(br!)) return { noData: `baseline-total-query: ${(br as { noData: string }).noData}` };
    // A failure counter has no series until the first failure: with requests counted, that is zero.
    const failures = (reading: Reading, field: string) => {
      if (hasValue(reading)) return reading.value;
      if ('noData' in reading && reading.noData === 'empty result') return 0;
      throw new Error(`${field}: ${reading.noData}`);
    };
    let now: Counters;
    try {
      now = {
        canaryFailures: failures(cf!, 'query'),
        canaryRequests: cr.value,
        baselineFailures: failures(bf!, 'baseline-query'),
        baselineRequests: br.value,
      };
    } catch (error) {
      return { noData: (error as Error).message };
    }
    const test = (state.test ??= new FailureRateTest(rule['max-ratio'], rule.confidence));
    const before = state.counters;
    state.counters = now;
    if (before) {
      // Counters restart at zero when a process restarts; as Prometheus' rate() does, take the new value.
      const delta = (key: keyof Counters) => (now[key] >= before[key] ? now[key] - before[key] : now[key]);
      test.add(
        { failures: delta('canaryFailures'), requests: delta('canaryRequests') },
        { failures: delta('baselineFailures'), requests: delta('baselineRequests') },
      );
    }
    if (test.canary.requests === 0) return { noData: 'no canary requests counted yet' };
    if (rule['min-requests'] !== undefined && test.canary.requests < rule['min-requests']) {
      return { noData: `${test.canary.requests} canary requests, below min-requests ${rule['min-requests']}` };
    }
    const rate = (c: { failures: number; requests: number }) => (c.requests ? `${round((100 * c.failures) / c.requests)}%` : 'n/a');
    const summary = `canary ${rate(test.canary)} of ${test.canary.requests} vs baseline ${rate(test.baseline)} of ${test.baseline.requests}, LLR ${round(test.llr)}`;
    return {
      withinBounds: !test.canaryIsWorse,
      reading: {
        value: test.llr,
        limit: test.upper,
        bound: `LLR < ${round(test.upper)}`,
        detail: test.canaryIsWorse ? `${summary} ≥ ${round(test.upper)}: canary fails more than stable` : summary,
      },
    };
  }
}

function boundOf(rule: GateRule): string {
  if (rule.kind === 'threshold') return thresholdBound(rule);
  return `LLR < ${round(rejectionBound(rule.confidence))}`;
}
