import { describe, expect, it } from 'vitest';
import { CounterIncrements } from '../../src/metrics/counters.ts';
import { matchesEmpty, parsePromql, promDurationMs, PromqlSyntaxError, selectorsOf, stringValue } from '../../src/metrics/promql.ts';

describe('parsePromql', () => {
  it('reads a ratio of sums of rates into a tree', () => {
    const expr = parsePromql(
      'sum(rate(http_requests_total{instance=~"a|b",code=~"5.."}[1m])) / sum(rate(http_requests_total{instance=~"a|b"}[1m]))',
    );
    expect(expr).toMatchObject({
      type: 'binary',
      op: '/',
      lhs: {
        type: 'aggregate',
        op: 'sum',
        args: [{ type: 'call', fn: 'rate', args: [{ type: 'selector', metric: 'http_requests_total', rangeMs: 60_000 }] }],
      },
      rhs: { type: 'aggregate', op: 'sum' },
    });
    if (expr.type === 'binary') expect(expr.rhs.text).toBe('sum(rate(http_requests_total{instance=~"a|b"}[1m]))');
  });

  it('reads sum by (le) and the metric name in a matcher', () => {
    expect(parsePromql('sum by (le) ({__name__="h_bucket", job=\'x\'})')).toMatchObject({
      type: 'aggregate',
      grouping: { by: true, labels: ['le'] },
      args: [{ type: 'selector', metric: 'h_bucket', matchers: [{ label: 'job', op: '=', value: 'x' }] }],
    });
  });

  it('names where the grammar cannot read a query', () => {
    expect(() => parsePromql('sum(rate(x[1m]) /')).toThrow(PromqlSyntaxError);
    expect(() => parsePromql('sum(rate(x[1m]) /')).toThrow(/at character 18/);
  });

  it('finds every selector, inside range selectors and functions too', () => {
    const found = selectorsOf('histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="1"}[5m]))) / on() group_left sum(b)');
    expect(found.map((s) => s.metric)).toEqual(['a_bucket', 'b']);
  });
});

describe('selector helpers', () => {
  it.each([
    [{ label: 'code', op: '=~', value: '5..' }, false],
    [{ label: 'code', op: '=~', value: '5..|' }, true],
    [{ label: 'code', op: '=', value: '' }, true],
    [{ label: 'code', op: '!=', value: '500' }, true],
    [{ label: 'code', op: '!~', value: '.*' }, false],
    [{ label: 'code', op: '=', value: '500' }, false],
  ] as const)('%j can match a series without the label: %s', (matcher, expected) => {
    expect(matchesEmpty(matcher)).toBe(expected);
  });

  it('reads durations and string literals as Prometheus does', () => {
    expect(promDurationMs('1m30s')).toBe(90_000);
    expect(promDurationMs('500ms')).toBe(500);
    expect(promDurationMs('15')).toBe(15_000);
    expect(stringValue('"a\\"b\\n"')).toBe('a"b\n');
    expect(stringValue('`a\\b`')).toBe('a\\b');
  });
});

describe('CounterIncrements', () => {
  const s = (instance: string, value: number) => ({ labels: { instance }, value });

  it('starts counting at the first look, then sums per-series increments', () => {
    const counter = new CounterIncrements();
    expect(counter.advance([s('a', 100), s('b', 50)])).toBeUndefined();
    expect(counter.advance([s('a', 130), s('b', 60)])!.get('')).toBe(40);
  });

  it('reads a drop as a restart (the increment is the new value) and a new series from zero', () => {
    const counter = new CounterIncrements();
    counter.advance([s('a', 100)]);
    expect(counter.advance([s('a', 7), s('c', 3)])!.get('')).toBe(10);
  });

  it('keeps a series’ last value across a scrape it is missing from', () => {
    const counter = new CounterIncrements();
    counter.advance([s('a', 100), s('b', 100)]);
    expect(counter.advance([s('a', 110)])!.get('')).toBe(10);
    expect(counter.advance([s('a', 120), s('b', 130)])!.get('')).toBe(40);
  });

  it('groups increments by a label (histogram buckets by le)', () => {
    const counter = new CounterIncrements();
    const b = (instance: string, le: string, value: number) => ({ labels: { instance, le }, value });
    counter.advance([b('a', '0.1', 10), b('a', '+Inf', 12), b('b', '0.1', 5), b('b', '+Inf', 5)]);
    const inc = counter.advance([b('a', '0.1', 15), b('a', '+Inf', 20), b('b', '0.1', 6), b('b', '+Inf', 8)], (l) => l.le!)!;
    expect(Object.fromEntries(inc)).toEqual({ '0.1': 6, '+Inf': 11 });
  });
});
