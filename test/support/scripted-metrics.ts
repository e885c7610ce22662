import type { MetricsProvider, Series, VectorReading } from '../../src/metrics/provider.ts';

export type Answer = number | Series[] | { noData: string } | Error;

/**
 * A metrics provider that answers each query from a script, the last answer repeating: a number is
 * one series with no labels, a list is the series themselves; unknown queries answer an empty vector.
 */
export function scriptedMetrics(
  answers: Record<string, Answer[]>,
  options: { labels?: Record<string, string[]>; scrapeIntervalMs?: number } = {},
): MetricsProvider & { asked: string[] } {
  const seen: Record<string, number> = {};
  const asked: string[] = [];
  return {
    description: 'scripted',
    asked,
    async vector(query): Promise<VectorReading> {
      asked.push(query);
      const list = answers[query] ?? [[]];
      const i = (seen[query] = (seen[query] ?? -1) + 1);
      const answer = list[Math.min(i, list.length - 1)]!;
      if (answer instanceof Error) throw answer;
      if (typeof answer === 'number') return { series: [{ labels: {}, value: answer }] };
      if (Array.isArray(answer)) return { series: answer };
      return answer;
    },
    async labelNames(selector) {
      const metric = /^\{__name__="(.+)"\}$/.exec(selector)?.[1] ?? selector;
      return options.labels?.[metric] ?? ['__name__', 'instance', 'job', 'code'];
    },
    async scrapeIntervalMs() {
      return options.scrapeIntervalMs;
    },
  };
}
