import { parsePromql } from '../metrics/promql.ts';
import { hasValue, type MetricsProvider, singleValue } from '../metrics/provider.ts';
import { exact, round } from './format.ts';
import type { Outcome } from './outcome.ts';
import type { ThresholdRule } from './rules.ts';

function thresholdBound(rule: ThresholdRule): string {
  if (rule.min !== undefined && rule.max !== undefined) return `${rule.min} … ${rule.max}`;
  return rule.max !== undefined ? `≤ ${rule.max}` : `≥ ${rule.min}`;
}

/** The two sides of a top-level division (through parentheses), e.g. errors / requests. */
function ratioParts(query: string): { numerator: string; denominator: string } | undefined {
  try {
    const expr = parsePromql(query);
    if (expr.type === 'binary' && expr.op === '/' && !expr.bool) return { numerator: expr.lhs.text, denominator: expr.rhs.text };
  } catch {
    // The preflight names syntax errors; a query that cannot be read is simply not decomposed.
  }
  return undefined;
}

/**
 * A rule holding one query's number within bounds. Emptiness has one meaning per cause: for a
 * ratio such as errors / requests, which has no series until the first error, an empty numerator
 * over a positive denominator is 0; a zero denominator is no traffic (not evidence yet, never a
 * pass); a denominator with no series, like any other empty answer, is silence.
 */
export class ThresholdCheck {
  readonly rule: ThresholdRule;
  private readonly metrics: MetricsProvider;
  private readonly parts: ReturnType<typeof ratioParts>;

  constructor(rule: ThresholdRule, metrics: MetricsProvider) {
    this.rule = rule;
    this.metrics = metrics;
    this.parts = ratioParts(rule.query);
  }

  get bound(): string {
    return thresholdBound(this.rule);
  }

  async read(signal?: AbortSignal): Promise<Outcome> {
    const { rule } = this;
    const [whole, requests] = await Promise.all([
      this.metrics.vector(rule.query, signal).then(singleValue),
      rule['requests-query'] ? this.metrics.vector(rule['requests-query'], signal).then(singleValue) : undefined,
    ]);
    let value: number;
    let why = '';
    if (hasValue(whole)) {
      value = whole.value;
    } else {
      if (!this.parts || !(whole.noData === 'empty result' || whole.noData.startsWith('value is')))
        return { kind: 'silent', why: whole.noData };
      const [numerator, denominator] = await Promise.all([
        this.metrics.vector(this.parts.numerator, signal),
        this.metrics.vector(this.parts.denominator, signal).then(singleValue),
      ]);
      if (!hasValue(denominator)) return { kind: 'silent', why: `the denominator: ${denominator.noData}` };
      if (denominator.value === 0) return { kind: 'inconclusive', detail: 'no traffic: the denominator is 0' };
      if (!('series' in numerator)) return { kind: 'silent', why: `the numerator: ${numerator.noData}` };
      if (numerator.series.length > 0)
        return { kind: 'silent', why: `${whole.noData}, though numerator and denominator both have data (do their labels match?)` };
      value = 0;
      why = ' (the numerator has no series yet: nothing to count)';
    }
    if (requests && rule['min-requests'] !== undefined) {
      if (!hasValue(requests)) return { kind: 'silent', why: `requests-query: ${requests.noData}` };
      if (requests.value < rule['min-requests']) {
        return {
          kind: 'inconclusive',
          value,
          detail: `not enough traffic yet: ${exact(requests.value)} requests (requests-query) is below min-requests ${rule['min-requests']}`,
        };
      }
    }
    const tooHigh = rule.max !== undefined && value > rule.max;
    const tooLow = rule.min !== undefined && value < rule.min;
    const shown = `${round(value)}${why}`;
    return {
      kind: 'measured',
      within: !tooHigh && !tooLow,
      value,
      limit: tooLow || rule.max === undefined ? rule.min : rule.max,
      detail: tooHigh ? `${shown} above max ${rule.max}` : tooLow ? `${shown} below min ${rule.min}` : `${shown} within ${this.bound}`,
    };
  }
}
