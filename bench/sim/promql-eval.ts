import { type Expr, type Matcher, parsePromql } from '../../src/metrics/promql.ts';

/**
 * A small PromQL evaluator over the tree src/metrics/promql.ts builds, for the shapes gate rules
 * use: selectors, sum (by / without), rate and increase (with Prometheus' extrapolation),
 * arithmetic between vectors and numbers, and histogram_quantile. Enough to run the real gate,
 * and rules as Argo Rollouts and Flagger users write them, over simulated series.
 */
export interface SeriesStore {
  /** Series of a metric: their labels and samples [ms, value], oldest first. */
  seriesOf(metric: string): ReadonlyArray<{ labels: Record<string, string>; samples: ReadonlyArray<readonly [number, number]> }>;
}

export interface Element {
  labels: Record<string, string>;
  value: number;
}

type Value = { kind: 'vector'; elements: Element[] } | { kind: 'scalar'; value: number };

const LOOKBACK_MS = 5 * 60_000;

const regexCache = new Map<string, RegExp>();
function matches(matcher: Matcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    default: {
      let re = regexCache.get(matcher.value);
      if (!re) regexCache.set(matcher.value, (re = new RegExp(`^(?:${matcher.value})$`)));
      return matcher.op === '=~' ? re.test(value) : !re.test(value);
    }
  }
}

/** Index of the last sample at or before t (binary search), or -1. */
function lastAtOrBefore(samples: ReadonlyArray<readonly [number, number]>, t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]![0] <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

const withoutName = (labels: Record<string, string>) => {
  const rest = { ...labels };
  delete rest.__name__;
  return rest;
};
const signature = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');

/** Prometheus' extrapolated increase over [t - range, t] of one counter (promql/functions.go). */
function extrapolatedIncrease(
  samples: ReadonlyArray<readonly [number, number]>,
  t: number,
  rangeMs: number,
  asRate: boolean,
): number | undefined {
  const start = t - rangeMs;
  const end = lastAtOrBefore(samples, t);
  let first = end;
  while (first > 0 && samples[first - 1]![0] > start) first--;
  if (end < 0 || samples[first]![0] <= start || end - first < 1) return undefined;
  let result = samples[end]![1] - samples[first]![1];
  for (let i = first + 1; i <= end; i++) if (samples[i]![1] < samples[i - 1]![1]) result += samples[i - 1]![1];
  const firstT = samples[first]![0];
  const lastT = samples[end]![0];
  const sampled = lastT - firstT;
  const average = sampled / (end - first);
  let toStart = firstT - start;
  const toEnd = t - lastT;
  if (result > 0 && samples[first]![1] >= 0) {
    const toZero = sampled * (samples[first]![1] / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = average * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : average / 2;
  interval += toEnd < threshold ? toEnd : average / 2;
  result *= interval / sampled;
  return asRate ? result / (rangeMs / 1000) : result;
}

/** Prometheus' histogram_quantile over one set of buckets (promql/quantile.go, classic buckets). */
function bucketQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  buckets.sort((a, b) => a.le - b.le);
  if (buckets.length < 2 || buckets.at(-1)!.le !== Infinity) return NaN;
  for (let i = 1; i < buckets.length; i++) if (buckets[i]!.count < buckets[i - 1]!.count) buckets[i]!.count = buckets[i - 1]!.count;
  const total = buckets.at(-1)!.count;
  if (total === 0) return NaN;
  const rank = q * total;
  const b = buckets.findIndex((x) => x.count >= rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.le;
  if (b === 0 && buckets[0]!.le <= 0) return buckets[0]!.le;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.le;
  let count = buckets[b]!.count;
  let rankIn = rank;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.le;
    count -= buckets[b - 1]!.count;
    rankIn -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rankIn / count);
}

export class Evaluator {
  private readonly store: SeriesStore;
  private readonly parsed = new Map<string, Expr>();

  constructor(store: SeriesStore) {
    this.store = store;
  }

  /** An instant query at time t: every element, or a scalar as one element with no labels. */
  query(query: string, t: number): Element[] {
    let expr = this.parsed.get(query);
    if (!expr) this.parsed.set(query, (expr = parsePromql(query)));
    const value = this.eval(expr, t);
    return value.kind === 'scalar' ? [{ labels: {}, value: value.value }] : value.elements;
  }

  private select(expr: Extract<Expr, { type: 'selector' }>) {
    if (!expr.metric) throw new Error('the simulator needs a metric name in every selector');
    return this.store.seriesOf(expr.metric).filter((s) => expr.matchers.every((m) => matches(m, s.labels[m.label] ?? '')));
  }

  private eval(expr: Expr, t: number): Value {
    switch (expr.type) {
      case 'number':
        return { kind: 'scalar', value: expr.value };
      case 'selector': {
        if (expr.rangeMs !== undefined) throw new Error('a range selector outside rate() or increase()');
        const elements: Element[] = [];
        for (const s of this.select(expr)) {
          const i = lastAtOrBefore(s.samples, t);
          if (i >= 0 && s.samples[i]![0] > t - LOOKBACK_MS) elements.push({ labels: s.labels, value: s.samples[i]![1] });
        }
        return { kind: 'vector', elements };
      }
      case 'call':
        return this.call(expr, t);
      case 'aggregate': {
        if (expr.op !== 'sum') throw new Error(`the simulator does not evaluate ${expr.op}`);
        const inner = this.eval(expr.args[0]!, t);
        if (inner.kind !== 'vector') throw new Error('sum of a scalar');
        const groups = new Map<string, Element>();
        for (const e of inner.elements) {
          const labels: Record<string, string> = {};
          if (expr.grouping?.by) for (const l of expr.grouping.labels) if (e.labels[l] !== undefined) labels[l] = e.labels[l]!;
          if (expr.grouping && !expr.grouping.by) {
            for (const [k, v] of Object.entries(withoutName(e.labels))) if (!expr.grouping.labels.includes(k)) labels[k] = v;
          }
          const key = signature(labels);
          const group = groups.get(key);
          if (group) group.value += e.value;
          else groups.set(key, { labels, value: e.value });
        }
        return { kind: 'vector', elements: [...groups.values()] };
      }
      case 'binary': {
        if (expr.matching || expr.bool) throw new Error('the simulator does not evaluate matching modifiers');
        const op = (
          {
            '/': (a: number, b: number) => a / b,
            '*': (a: number, b: number) => a * b,
            '+': (a: number, b: number) => a + b,
            '-': (a: number, b: number) => a - b,
          } as Record<string, (a: number, b: number) => number>
        )[expr.op];
        if (!op) throw new Error(`the simulator does not evaluate ${expr.op}`);
        const lhs = this.eval(expr.lhs, t);
        const rhs = this.eval(expr.rhs, t);
        if (lhs.kind === 'scalar' && rhs.kind === 'scalar') return { kind: 'scalar', value: op(lhs.value, rhs.value) };
        if (lhs.kind === 'scalar')
          return {
            kind: 'vector',
            elements: (rhs as { elements: Element[] }).elements.map((e) => ({
              labels: withoutName(e.labels),
              value: op(lhs.value, e.value),
            })),
          };
        if (rhs.kind === 'scalar')
          return { kind: 'vector', elements: lhs.elements.map((e) => ({ labels: withoutName(e.labels), value: op(e.value, rhs.value) })) };
        const right = new Map(rhs.elements.map((e) => [signature(withoutName(e.labels)), e]));
        const elements: Element[] = [];
        for (const e of lhs.elements) {
          const labels = withoutName(e.labels);
          const other = right.get(signature(labels));
          if (other) elements.push({ labels, value: op(e.value, other.value) });
        }
        return { kind: 'vector', elements };
      }
      default:
        throw new Error(`the simulator does not evaluate ${expr.text}`);
    }
  }

  private call(expr: Extract<Expr, { type: 'call' }>, t: number): Value {
    if (expr.fn === 'rate' || expr.fn === 'increase') {
      const arg = expr.args[0];
      if (arg?.type !== 'selector' || arg.rangeMs === undefined) throw new Error(`${expr.fn} needs a range selector`);
      const elements: Element[] = [];
      for (const s of this.select(arg)) {
        const value = extrapolatedIncrease(s.samples, t, arg.rangeMs, expr.fn === 'rate');
        if (value !== undefined) elements.push({ labels: withoutName(s.labels), value });
      }
      return { kind: 'vector', elements };
    }
    if (expr.fn === 'histogram_quantile') {
      const q = this.eval(expr.args[0]!, t);
      const inner = this.eval(expr.args[1]!, t);
      if (q.kind !== 'scalar' || inner.kind !== 'vector') throw new Error('histogram_quantile(scalar, vector)');
      const groups = new Map<string, { labels: Record<string, string>; buckets: Array<{ le: number; count: number }> }>();
      for (const e of inner.elements) {
        const { le, ...rest } = withoutName(e.labels);
        if (le === undefined) continue;
        const key = signature(rest);
        const group = groups.get(key) ?? { labels: rest, buckets: [] };
        group.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: e.value });
        groups.set(key, group);
      }
      return {
        kind: 'vector',
        elements: [...groups.values()].map((g) => ({ labels: g.labels, value: bucketQuantile(q.value, g.buckets) })),
      };
    }
    throw new Error(`the simulator does not evaluate ${expr.fn}()`);
  }
}
