import type { MetricsProvider } from '../metrics/provider.ts';
import { BaselineCheck, LatencyCheck } from './comparison.ts';
import type { Outcome } from './outcome.ts';
import { preflight } from './preflight.ts';
import type { RuleReading } from './readings.ts';
import type { GateRule } from './rules.ts';
import { ThresholdCheck } from './threshold.ts';

/** While a rule has no data, look again this often rather than a whole interval later: a fresh
 * weight's first evidence arrives with the next scrape, and a bad canary should not wait for us. */
export const DATA_POLL_MS = 500;

/**
 * fail: revert now · wait: some rule has no data yet (look again soon) · breach: some threshold is
 * out of bounds (the hold cannot pass on it) · inconclusive: no rule failed but some has not enough
 * evidence · pass: every rule within bounds or not worse than stable.
 */
export type GateStatus = 'fail' | 'wait' | 'breach' | 'inconclusive' | 'pass';

export interface GateVerdict {
  status: GateStatus;
  /** The readings taken at this look (rules not due now keep their last one). */
  readings: RuleReading[];
  /** Every rule's latest reading. */
  latest: RuleReading[];
  /** Why it failed, or what keeps it from passing. */
  reason?: string;
}

export interface EvaluationContext {
  /** Milliseconds since the ramp started (the first weight change). */
  now: number;
  weight: number;
  /** When the current weight was set, on the same clock as `now`. */
  weightSetAt: number;
  /** The hold is over: silence now fails instead of waiting. */
  endOfHold: boolean;
  /** Look at every rule now, whatever its cadence (a new weight, the end of a hold). */
  everyRule?: boolean;
  signal?: AbortSignal;
}

type Check = ThresholdCheck | BaselineCheck | LatencyCheck;

interface RuleState {
  check: Check;
  breaches: number;
  lastDataAt: number | undefined;
  lastLookAt: number | undefined;
  latest: RuleReading | undefined;
}

/** A timer may wake a hair early; a rule due within this is due now. */
const SLACK_MS = 5;

/**
 * Evaluates every rule of the gate against the metrics provider and turns the readings into one
 * verdict, applying failure-limit, initial-delay, min-requests and the no-data policy: silence right
 * after a weight change is not evidence, but silence past the grace, or at the end of a hold, fails.
 *
 * Threshold rules are read every `interval`. Comparisons with stable are anytime-valid, so they
 * look at every scrape (`lookEveryMs`, set from Prometheus' scrape interval by the preflight): a
 * clearly worse canary is reverted as soon as the data shows it.
 */
export class Gate {
  readonly rules: readonly GateRule[];
  private readonly metrics: MetricsProvider;
  private readonly intervalMs: number;
  private readonly state = new Map<string, RuleState>();
  /** How often comparisons with stable look: half Prometheus' scrape interval, within [DATA_POLL_MS, interval]. */
  lookEveryMs: number;
  /** Prometheus' scrape interval, once the preflight has read it. */
  scrapeIntervalMs: number | undefined;

  constructor(rules: readonly GateRule[], metrics: MetricsProvider, intervalMs: number) {
    this.rules = rules;
    this.metrics = metrics;
    this.intervalMs = intervalMs;
    this.lookEveryMs = intervalMs;
    for (const rule of rules) {
      const check =
        rule.kind === 'threshold'
          ? new ThresholdCheck(rule, metrics)
          : rule.kind === 'baseline'
            ? new BaselineCheck(rule, metrics)
            : new LatencyCheck(rule, metrics);
      this.state.set(rule.name, { check, breaches: 0, lastDataAt: undefined, lastLookAt: undefined, latest: undefined });
    }
  }

  /**
   * Before the first weight change: every query checked against Prometheus (ConfigurationError for
   * the user's mistakes), the scrape interval read, and each comparison's counters primed.
   */
  async preflight(signal?: AbortSignal): Promise<void> {
    await preflight(this.rules, this.metrics, signal);
    this.scrapeIntervalMs = await this.metrics.scrapeIntervalMs(signal);
    if (this.scrapeIntervalMs !== undefined) {
      this.lookEveryMs = Math.min(this.intervalMs, Math.max(DATA_POLL_MS, this.scrapeIntervalMs / 2));
    }
  }

  /** When the next rule is due, on the ramp's clock. */
  nextLookAt(): number {
    return Math.min(...[...this.state.values()].map((s) => this.dueAt(s)));
  }

  private dueAt(state: RuleState): number {
    const rule = state.check.rule;
    if (state.lastLookAt === undefined) return rule['initial-delay'];
    if (state.latest?.status === 'no-data') return state.lastLookAt + DATA_POLL_MS;
    return state.lastLookAt + (rule.kind === 'threshold' ? this.intervalMs : this.lookEveryMs);
  }

  async evaluate(context: EvaluationContext): Promise<GateVerdict> {
    const due = [...this.state.values()].filter(
      (s) => context.now >= s.check.rule['initial-delay'] && (context.everyRule || context.now + SLACK_MS >= this.dueAt(s)),
    );
    const readings = await Promise.all(due.map((s) => this.look(s, context)));
    const latest = this.rules.map((rule) => {
      const state = this.state.get(rule.name)!;
      return (state.latest ??= {
        rule: rule.name,
        at: context.now,
        weight: context.weight,
        status: 'delayed',
        bound: state.check.bound,
        detail: `initial delay until ${rule['initial-delay'] / 1000}s`,
      });
    });
    const find = (status: RuleReading['status']) => latest.filter((r) => r.status === status);
    const explain = (list: RuleReading[]) => list.map((r) => `${r.rule}: ${r.detail}`).join('; ');
    const failed = find('fail');
    if (failed.length) return { status: 'fail', readings, latest, reason: explain(failed.slice(0, 1)) };
    if (find('no-data').length) return { status: 'wait', readings, latest, reason: explain(find('no-data')) };
    if (find('breach').length) return { status: 'breach', readings, latest, reason: explain(find('breach')) };
    if (find('inconclusive').length) return { status: 'inconclusive', readings, latest, reason: explain(find('inconclusive')) };
    return { status: 'pass', readings, latest };
  }

  private async look(state: RuleState, context: EvaluationContext): Promise<RuleReading> {
    const rule = state.check.rule;
    state.lastLookAt = context.now;
    const outcome: Outcome = await state.check.read(context.signal);
    const base = { rule: rule.name, at: context.now, weight: context.weight, bound: state.check.bound };
    let reading: RuleReading;
    if (outcome.kind === 'silent') {
      reading = { ...base, ...this.silence(rule, state, context, outcome.why) };
    } else {
      state.lastDataAt = context.now;
      if (outcome.kind === 'inconclusive') {
        reading = { ...base, status: 'inconclusive', value: outcome.value, detail: outcome.detail, comparison: outcome.comparison };
      } else if (outcome.kind === 'compared') {
        const worse = outcome.comparison.state === 'worse';
        reading = { ...base, status: worse ? 'fail' : 'pass', detail: outcome.detail, comparison: outcome.comparison };
      } else if (outcome.within) {
        state.breaches = 0;
        reading = { ...base, status: 'pass', value: outcome.value, limit: outcome.limit, detail: outcome.detail };
      } else {
        state.breaches += 1;
        const limit = rule['failure-limit'];
        const count = limit > 1 ? ` (${state.breaches} of ${limit} in a row)` : '';
        const status = state.breaches >= limit ? 'fail' : 'breach';
        reading = { ...base, status, value: outcome.value, limit: outcome.limit, detail: `${outcome.detail}${count}` };
      }
    }
    state.latest = reading;
    return reading;
  }

  private silence(rule: GateRule, state: RuleState, context: EvaluationContext, why: string): Pick<RuleReading, 'status' | 'detail'> {
    const graceMs = rule['no-data-limit'] * this.intervalMs;
    const since = Math.max(state.lastDataAt ?? -Infinity, context.weightSetAt);
    const silentFor = context.now - since;
    if (context.endOfHold) return { status: 'fail', detail: `no data at the end of the hold: ${why}` };
    if (silentFor >= graceMs) {
      return { status: 'fail', detail: `no data for ${(silentFor / 1000).toFixed(1)}s, past the ${graceMs / 1000}s grace: ${why}` };
    }
    return { status: 'no-data', detail: `no data: ${why}` };
  }
}
