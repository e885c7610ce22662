import type { Series } from './provider.ts';

const keyOf = (labels: Record<string, string>) =>
  JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );

/**
 * Increments of a sum of cumulative counters, series by series, so that neither a process restart
 * nor a scrape gap miscounts: the last value of every series is kept by its label set (also while a
 * series is briefly absent), and a value below the last one is a reset, whose increment is the new
 * value, as Prometheus' own increase() reads it. A series first seen after the first look counts
 * from zero (a failure counter appears with the first failure).
 */
export class CounterIncrements {
  private readonly last = new Map<string, number>();
  private primed = false;

  /**
   * Takes the series seen now and returns the increment since the previous look, summed per group
   * (e.g. per `le` bucket); undefined on the first look, which only sets where counting starts.
   */
  advance(series: readonly Series[], groupOf: (labels: Record<string, string>) => string = () => ''): Map<string, number> | undefined {
    const increments = new Map<string, number>();
    for (const { labels, value } of series) {
      if (!Number.isFinite(value)) continue;
      const key = keyOf(labels);
      const before = this.last.get(key);
      this.last.set(key, value);
      const delta = before === undefined ? value : value >= before ? value - before : value;
      const group = groupOf(labels);
      increments.set(group, (increments.get(group) ?? 0) + delta);
    }
    if (!this.primed) {
      this.primed = true;
      return undefined;
    }
    return increments;
  }
}
