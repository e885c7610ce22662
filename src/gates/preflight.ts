import { ConfigurationError, errorMessage } from '../core/errors.ts';
import { logText } from '../core/untrusted.ts';
import { matchesEmpty, metricSelector, parsePromql, PromqlSyntaxError, selectorsOf } from '../metrics/promql.ts';
import { type MetricsProvider, QueryRejectedError, type VectorReading } from '../metrics/provider.ts';
import { innerSelector } from './comparison.ts';
import { type GateRule, queriesOf } from './rules.ts';

const INPUT = 'gate';

/**
 * Before the first weight change, every query of every rule runs once through Prometheus and every
 * selector in it is checked against what Prometheus holds: the metric has series, and each label a
 * matcher needs (one that cannot match a missing label) is a label of that metric. So a rule can
 * only read "no failures yet" from a query shown to be able to match, never from a typo.
 * A mistake is a ConfigurationError naming the rule and the query; an outage is an error too,
 * since a gate that cannot be checked must not start: either way the canary serves nothing.
 */
export async function preflight(rules: readonly GateRule[], metrics: MetricsProvider, signal?: AbortSignal): Promise<void> {
  const labelsOf = new Map<string, Promise<string[] | { noData: string }>>();
  for (const rule of rules) {
    for (const [field, query] of queriesOf(rule)) {
      const where = `${rule.name}: ${field} ${logText(query, 300)}`;
      // Prometheus' own word first: it is the authority on what it accepts.
      let answer: VectorReading;
      try {
        answer = await metrics.vector(query, signal);
      } catch (error) {
        if (error instanceof QueryRejectedError) {
          throw new ConfigurationError(INPUT, `${where}: Prometheus rejected it: ${logText(error.reason)}`);
        }
        throw error;
      }
      if ('noData' in answer) {
        if (answer.noData.startsWith('the query returned')) throw new ConfigurationError(INPUT, `${where}: ${answer.noData}`);
        throw new Error(`Cannot check the gate before moving traffic: ${where}: ${answer.noData}`);
      }
      if (rule.kind === 'threshold' && answer.series.length > 1) {
        throw new ConfigurationError(
          INPUT,
          `${where}: it returned ${answer.series.length} series; a threshold needs one number (e.g. sum(...))`,
        );
      }
      try {
        parsePromql(query);
      } catch (error) {
        if (error instanceof PromqlSyntaxError) throw new ConfigurationError(INPUT, `${where}: ${error.message}`);
        throw error;
      }
      if (rule.kind !== 'threshold') {
        try {
          innerSelector(query, rule.kind);
        } catch (error) {
          throw new ConfigurationError(INPUT, `${where}: ${errorMessage(error)}`);
        }
      }
      for (const selector of selectorsOf(query)) {
        const lookup = selector.metric ? metricSelector(selector.metric) : selector.text;
        if (!labelsOf.has(lookup)) labelsOf.set(lookup, metrics.labelNames(lookup, signal));
        const names = await labelsOf.get(lookup)!;
        if (!Array.isArray(names)) throw new Error(`Cannot check the gate before moving traffic: ${where}: ${names.noData}`);
        const what = selector.metric ? `the metric ${selector.metric}` : `the selector ${logText(selector.text)}`;
        if (names.length === 0) {
          throw new ConfigurationError(INPUT, `${where}: ${what} has no series in Prometheus (is it scraped, is the name right?)`);
        }
        for (const matcher of selector.matchers) {
          if (matchesEmpty(matcher) || names.includes(matcher.label)) continue;
          const has = names.filter((n) => n !== '__name__').map((n) => logText(n, 60));
          throw new ConfigurationError(
            INPUT,
            `${where}: ${what} has no label "${matcher.label}", so ${matcher.label}${matcher.op}${JSON.stringify(matcher.value)} can never match (its labels: ${has.join(', ')})`,
          );
        }
      }
    }
  }
}
