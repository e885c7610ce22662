import { CounterIncrements } from '../metrics/counters.ts';
import { parsePromql } from '../metrics/promql.ts';
import { hasSeries, type MetricsProvider, type Series } from '../metrics/provider.ts';
import { evidence, exact, percent, round } from './format.ts';
import type { Outcome } from './outcome.ts';
import type { ComparisonReading } from './readings.ts';
import type { BaselineRule, ComparisonRule, LatencyRule } from './rules.ts';
import { type Counts, SequentialComparison } from './sequential.ts';

/**
 * The selector inside `sum(<selector>)` (baseline rules) or `sum by (le) (<selector>)` (latency
 * rules): the gate reads every series itself, so that a restart or a scrape gap on one process
 * cannot miscount the sum. Throws with the shape expected for anything else.
 */
export function innerSelector(query: string, kind: ComparisonRule['kind']): string {
  const expr = parsePromql(query);
  const byLe = expr.type === 'aggregate' && expr.grouping?.by === true && expr.grouping.labels.join() === 'le';
  const shapeOk = expr.type === 'aggregate' && expr.op === 'sum' && (kind === 'baseline' ? !expr.grouping : byLe);
  const inner = expr.type === 'aggregate' ? expr.args[0] : undefined;
  if (!shapeOk || expr.args.length !== 1 || inner?.type !== 'selector' || inner.rangeMs !== undefined) {
    throw new Error(
      kind === 'baseline'
        ? 'must be sum(<selector>) of a cumulative counter, with no rate() or range'
        : 'must be sum by (le) (<selector of a histogram’s _bucket series>)',
    );
  }
  return inner.text;
}

function comparisonBound(rule: ComparisonRule): string {
  return `within ${rule['max-ratio']}× or +${round(rule['max-increase'] * 100)} pp of stable`;
}

/** The reading of a comparison's test, as the summary and `report` show it. */
function snapshot(test: SequentialComparison, rule: ComparisonRule, slowerThan?: number): ComparisonReading {
  const margin = test.margin;
  let state = test.state;
  // Not worse needs min-requests as well; worse never waits for it.
  if (state === 'not worse' && rule['min-requests'] !== undefined && test.canary.requests < rule['min-requests']) state = 'inconclusive';
  return {
    state,
    canary: test.canary,
    stable: test.stable,
    worse: { evidence: test.worseEvidence, bound: test.worseBound },
    notWorse: { evidence: test.notWorseEvidence, bound: test.notWorseBound },
    margin: { canaryUpper: margin.canaryUpper, stableLower: margin.stableLower, maxIncrease: rule['max-increase'] },
    moreRequests: state === 'inconclusive' ? test.moreRequestsNeeded() : undefined,
    slowerThan,
  };
}

function describe(c: ComparisonReading, rule: ComparisonRule, what: string): string {
  const side = (counts: Counts) =>
    `${exact(counts.failures)} ${what} of ${exact(counts.requests)} (${percent(counts.failures, counts.requests)})`;
  const head = `canary ${side(c.canary)} vs stable ${side(c.stable)}`;
  const stats = `worse ${evidence(c.worse.evidence)} of ${evidence(c.worse.bound)}, not worse ${evidence(c.notWorse.evidence)} of ${evidence(c.notWorse.bound)}`;
  if (c.state === 'worse') return `${head}; ${stats}: the canary ${what === 'failures' ? 'fails more often' : 'is slower'} than stable`;
  if (c.state === 'not worse') return `${head}; ${stats}: not worse than stable (${comparisonBound(rule)})`;
  const low = rule['min-requests'] !== undefined && c.canary.requests < rule['min-requests'];
  const more = c.moreRequests !== undefined ? `; about ${exact(c.moreRequests)} more canary requests to decide` : '';
  return `${head}; ${stats}: inconclusive${low ? ` (below min-requests ${rule['min-requests']})` : ''}${more}`;
}

/**
 * Prometheus scrapes each target at its own moment within the interval, so one look may see new
 * counts from stable and the next from the canary. Increments are held until both sides have
 * served something, then weighed together: the test sees the same requests, in spans where the
 * two sides can be compared. When to weigh depends on request counts alone, never on failures.
 */
class PairedIncrements {
  private canary: Counts = { failures: 0, requests: 0 };
  private stable: Counts = { failures: 0, requests: 0 };

  push(canary: Counts, stable: Counts): [Counts, Counts] | undefined {
    const sum = (a: Counts, b: Counts) => ({ failures: a.failures + b.failures, requests: a.requests + b.requests });
    this.canary = sum(this.canary, canary);
    this.stable = sum(this.stable, stable);
    if (!(this.canary.requests > 0 && this.stable.requests > 0)) return undefined;
    const pair: [Counts, Counts] = [this.canary, this.stable];
    this.canary = { failures: 0, requests: 0 };
    this.stable = { failures: 0, requests: 0 };
    return pair;
  }
}

/** Reads the series of several queries at once; the first that has no answer says why. */
async function readAll(metrics: MetricsProvider, queries: Array<[string, string]>, signal?: AbortSignal): Promise<Series[][] | string> {
  const answers = await Promise.all(queries.map(([, q]) => metrics.vector(q, signal)));
  for (const [i, answer] of answers.entries()) if (!hasSeries(answer)) return `${queries[i]![0]}: ${answer.noData}`;
  return answers.map((a) => (a as { series: Series[] }).series);
}

/**
 * What both comparisons share: the rule, the sequential test its counts feed, and how a snapshot
 * of that test becomes the look's outcome.
 */
abstract class SequentialCheck<R extends ComparisonRule> {
  readonly rule: R;
  protected readonly metrics: MetricsProvider;
  protected readonly pending = new PairedIncrements();
  protected selectors: Array<[string, string]> | undefined;
  readonly test: SequentialComparison;

  constructor(rule: R, metrics: MetricsProvider) {
    this.rule = rule;
    this.metrics = metrics;
    this.test = new SequentialComparison({ maxRatio: rule['max-ratio'], maxIncrease: rule['max-increase'], confidence: rule.confidence });
  }

  get bound(): string {
    return comparisonBound(this.rule);
  }

  abstract read(signal?: AbortSignal): Promise<Outcome>;

  protected outcome(comparison: ComparisonReading, detail: string): Outcome {
    if (this.test.canary.requests === 0) return { kind: 'inconclusive', detail: 'no canary request counted yet', comparison };
    return comparison.state === 'inconclusive' ? { kind: 'inconclusive', detail, comparison } : { kind: 'compared', comparison, detail };
  }
}

/** Canary failures against stable's, from four sums of cumulative counters. */
export class BaselineCheck extends SequentialCheck<BaselineRule> {
  private readonly counters = [0, 1, 2, 3].map(() => new CounterIncrements());

  async read(signal?: AbortSignal): Promise<Outcome> {
    this.selectors ??= (['query', 'total-query', 'baseline-query', 'baseline-total-query'] as const).map((f): [string, string] => [
      f,
      innerSelector(this.rule[f], 'baseline'),
    ]);
    const series = await readAll(this.metrics, this.selectors, signal);
    if (typeof series === 'string') return { kind: 'silent', why: series };
    const [, canaryTotal, , stableTotal] = series;
    // A total with no series is silence (is that side scraped?); a failure counter with none has counted nothing yet.
    if (canaryTotal!.length === 0) return { kind: 'silent', why: 'no canary traffic counted: total-query has no series' };
    if (stableTotal!.length === 0) return { kind: 'silent', why: 'no stable traffic counted: baseline-total-query has no series' };
    const increments = series.map((s, i) => this.counters[i]!.advance(s)?.get('') ?? 0);
    const [cf, cr, bf, br] = increments as [number, number, number, number];
    const pair = this.pending.push({ failures: cf, requests: cr }, { failures: bf, requests: br });
    if (pair) this.test.add(...pair);
    const comparison = snapshot(this.test, this.rule);
    return this.outcome(comparison, describe(comparison, this.rule, 'failures'));
  }
}

const le = (labels: Record<string, string>) => labels.le ?? '';

/**
 * Canary latency against stable's: at each look the bucket boundary at stable's quantile (from
 * stable's own histogram, counted so far) splits the new requests of each side into fast and slow,
 * and the slow ones are weighed as failures are. The boundary is fixed before the increment it
 * judges, so the test keeps its guarantees.
 */
export class LatencyCheck extends SequentialCheck<LatencyRule> {
  private readonly counters = [new CounterIncrements(), new CounterIncrements()];
  private readonly stableBuckets = new Map<string, number>();
  private boundary: string | undefined;

  async read(signal?: AbortSignal): Promise<Outcome> {
    this.selectors ??= (['query', 'baseline-query'] as const).map((f): [string, string] => [f, innerSelector(this.rule[f], 'latency')]);
    const series = await readAll(this.metrics, this.selectors, signal);
    if (typeof series === 'string') return { kind: 'silent', why: series };
    if (series[0]!.length === 0) return { kind: 'silent', why: 'the canary histogram (query) has no series' };
    if (series[1]!.length === 0) return { kind: 'silent', why: 'the stable histogram (baseline-query) has no series' };
    const canary = this.counters[0]!.advance(series[0]!, le);
    const stable = this.counters[1]!.advance(series[1]!, le);
    if (canary && stable) {
      if (this.boundary !== undefined) {
        const slow = (buckets: Map<string, number>) => ({
          failures: Math.max(0, (buckets.get('+Inf') ?? 0) - (buckets.get(this.boundary!) ?? 0)),
          requests: buckets.get('+Inf') ?? 0,
        });
        const pair = this.pending.push(slow(canary), slow(stable));
        if (pair) this.test.add(...pair);
      }
      for (const [bucket, n] of stable) this.stableBuckets.set(bucket, (this.stableBuckets.get(bucket) ?? 0) + n);
      this.boundary = this.quantileBucket();
    }
    if (this.boundary === undefined) {
      return { kind: 'inconclusive', detail: `no stable latency counted yet to place its p${round(this.rule.quantile * 100)}` };
    }
    const comparison = snapshot(this.test, this.rule, Number(this.boundary));
    return this.outcome(comparison, describe(comparison, this.rule, `slower than ${this.boundary}s`));
  }

  /** The smallest finite bucket boundary holding at least `quantile` of stable's requests. */
  private quantileBucket(): string | undefined {
    const total = this.stableBuckets.get('+Inf') ?? 0;
    if (total <= 0) return undefined;
    const finite = [...this.stableBuckets.entries()]
      .filter(([b]) => b !== '+Inf' && Number.isFinite(Number(b)))
      .sort((a, b) => Number(a[0]) - Number(b[0]));
    return finite.find(([, n]) => n >= this.rule.quantile * total)?.[0];
  }
}
