import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import { Gate } from '../../src/gates/gate.ts';
import { gateSchema, type GateRule } from '../../src/gates/rules.ts';
import { cleanRequestsToPass } from '../../src/gates/sequential.ts';
import { QueryRejectedError, type Series } from '../../src/metrics/provider.ts';
import { scriptedMetrics } from '../support/scripted-metrics.ts';

const rules = (list: unknown[]) => gateSchema.parse(list) as GateRule[];
const at = (now: number, extra: Partial<{ weightSetAt: number; endOfHold: boolean; weight: number; everyRule: boolean }> = {}) => ({
  now,
  weight: 10,
  weightSetAt: 0,
  endOfHold: false,
  everyRule: true,
  ...extra,
});

const baseline = {
  name: 'vs-stable',
  query: 'sum(cf)',
  'total-query': 'sum(cn)',
  'baseline-query': 'sum(bf)',
  'baseline-total-query': 'sum(bn)',
};
const series = (...values: Array<[Record<string, string>, number]>): Series[] => values.map(([labels, value]) => ({ labels, value }));

describe('Gate: threshold rules', () => {
  it('passes within bounds and fails out of bounds with the reading in the reason', async () => {
    const gate = new Gate(rules([{ name: 'errors', query: 'q', max: 0.05 }]), scriptedMetrics({ q: [0.01, 0.2] }), 2000);
    expect((await gate.evaluate(at(0))).status).toBe('pass');
    const verdict = await gate.evaluate(at(2000));
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toBe('errors: 0.2 above max 0.05');
  });

  it('fails only after failure-limit consecutive breaches, and a pass resets the count', async () => {
    const gate = new Gate(
      rules([{ name: 'latency', query: 'q', min: 1, max: 2, 'failure-limit': 2 }]),
      scriptedMetrics({ q: [3, 1.5, 0.5, 0.5] }),
      1000,
    );
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await gate.evaluate(at(i * 1000))).readings[0]!.status);
    expect(statuses).toEqual(['breach', 'pass', 'breach', 'fail']);
  });

  it('never lets a hold pass on a breach, whatever the failure-limit', async () => {
    const gate = new Gate(rules([{ name: 'latency', query: 'q', max: 2, 'failure-limit': 100 }]), scriptedMetrics({ q: [3] }), 1000);
    const verdict = await gate.evaluate(at(5000, { endOfHold: true }));
    expect(verdict.status).toBe('breach');
    expect(verdict.reason).toBe('latency: 3 above max 2 (1 of 100 in a row)');
  });

  it('treats silence after a weight change as not yet evidence, then fails it past the grace', async () => {
    const gate = new Gate(rules([{ name: 'errors', query: 'q', max: 0.05, 'no-data-limit': 2 }]), scriptedMetrics({}), 2000);
    expect((await gate.evaluate(at(500))).status).toBe('wait');
    expect((await gate.evaluate(at(3500))).status).toBe('wait');
    const verdict = await gate.evaluate(at(4000));
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toBe('errors: no data for 4.0s, past the 4s grace: empty result');
  });

  it('never promotes silence: no data at the end of a hold fails at once', async () => {
    const gate = new Gate(rules([{ name: 'errors', query: 'q', max: 0.05 }]), scriptedMetrics({}), 2000);
    const verdict = await gate.evaluate(at(100, { endOfHold: true }));
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toBe('errors: no data at the end of the hold: empty result');
  });

  it('does not evaluate a rule before its initial delay', async () => {
    const gate = new Gate(rules([{ name: 'errors', query: 'q', max: 0.05, 'initial-delay': '10s' }]), scriptedMetrics({ q: [1] }), 2000);
    expect((await gate.evaluate(at(9000))).latest[0]!.status).toBe('delayed');
    expect((await gate.evaluate(at(10_000))).status).toBe('fail');
  });

  it('reads too little traffic as not enough evidence, with the exact numbers compared', async () => {
    const gate = new Gate(
      rules([{ name: 'errors', query: 'q', max: 0.05, 'min-requests': 50, 'requests-query': 'n' }]),
      scriptedMetrics({ q: [0], n: [49.833333333333336, 80] }),
      2000,
    );
    const first = await gate.evaluate(at(0));
    expect(first.status).toBe('inconclusive');
    expect(first.readings[0]!.detail).toBe('not enough traffic yet: 49.833333333333336 requests (requests-query) is below min-requests 50');
    expect((await gate.evaluate(at(2000))).status).toBe('pass');
  });

  describe('a ratio (errors / requests)', () => {
    const ratio = 'sum(rate(e{code="500"}[1m])) / sum(rate(e[1m]))';
    const gateWith = (answers: Record<string, Array<number | Series[]>>) =>
      new Gate(rules([{ name: 'error-rate', query: ratio, max: 0.01 }]), scriptedMetrics(answers), 2000);

    it('reads an empty numerator over a positive denominator as 0: no failure yet', async () => {
      const verdict = await gateWith({ [ratio]: [[]], 'sum(rate(e{code="500"}[1m]))': [[]], 'sum(rate(e[1m]))': [12.5] }).evaluate(at(0));
      expect(verdict.status).toBe('pass');
      expect(verdict.readings[0]).toMatchObject({
        value: 0,
        detail: '0 (the numerator has no series yet: nothing to count) within ≤ 0.01',
      });
    });

    it('reads a zero denominator as no traffic: inconclusive, never a pass', async () => {
      const verdict = await gateWith({
        [ratio]: [[{ labels: {}, value: NaN }]],
        'sum(rate(e{code="500"}[1m]))': [0],
        'sum(rate(e[1m]))': [0],
      }).evaluate(at(0));
      expect(verdict.status).toBe('inconclusive');
      expect(verdict.readings[0]!.detail).toBe('no traffic: the denominator is 0');
    });

    it('reads a denominator with no series as silence', async () => {
      const verdict = await gateWith({ [ratio]: [[]] }).evaluate(at(0));
      expect(verdict.status).toBe('wait');
      expect(verdict.readings[0]!.detail).toBe('no data: the denominator: empty result');
    });
  });
});

describe('Gate: comparisons with stable', () => {
  it('finds a canary failing 3% against stable’s 0.5% worse within a few looks', async () => {
    const looks = 8;
    const counter = (perLook: number) => Array.from({ length: looks }, (_, i) => i * perLook);
    const gate = new Gate(
      rules([baseline]),
      scriptedMetrics({ cf: counter(30), cn: counter(1000), bf: counter(5), bn: counter(1000) }),
      2000,
    );
    const statuses = [];
    for (let i = 0; i < looks; i++) {
      const verdict = await gate.evaluate(at(i * 2000, { weight: 50 }));
      statuses.push(verdict.status);
      if (verdict.status === 'fail') {
        expect(verdict.reason).toMatch(
          /^vs-stable: canary \d+ failures of [\d,]+ \(3%\) vs stable \d+ failures of [\d,]+ \(0.5%\); worse [\d.e+]+ of 100, not worse [\d.e+-]+ of 200: the canary fails more often than stable$/,
        );
        break;
      }
    }
    expect(statuses[0]).toBe('inconclusive');
    expect(statuses.at(-1)).toBe('fail');
    expect(statuses.length).toBeLessThanOrEqual(4);
  });

  it('reads a missing failure counter as zero failures, and shows exactly the counts it weighed', async () => {
    const gate = new Gate(rules([baseline]), scriptedMetrics({ cn: [0, 100], bn: [0, 900] }), 2000);
    await gate.evaluate(at(0));
    const verdict = await gate.evaluate(at(2000));
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.readings[0]!.comparison).toMatchObject({
      canary: { failures: 0, requests: 100 },
      stable: { failures: 0, requests: 900 },
    });
    expect(verdict.readings[0]!.detail).toMatch(/^canary 0 failures of 100 \(0%\) vs stable 0 failures of 900 \(0%\)/);
    expect(verdict.readings[0]!.detail).toMatch(/inconclusive; about [\d,]+ more canary requests to decide$/);
  });

  it('calls a canary and stable with no failures at all not worse after enough clean traffic', async () => {
    const needed = cleanRequestsToPass({ maxRatio: 2, maxIncrease: 0.001, confidence: 0.99 });
    const gate = new Gate(rules([baseline]), scriptedMetrics({ cn: [0, needed - 1, needed], bn: [0, 9 * needed, 10 * needed] }), 2000);
    await gate.evaluate(at(0));
    expect((await gate.evaluate(at(2000))).status).toBe('inconclusive');
    const verdict = await gate.evaluate(at(4000));
    expect(verdict.status).toBe('pass');
    expect(verdict.readings[0]!.comparison!.state).toBe('not worse');
  });

  it('counts per series, so a restarted process and a scrape gap neither lose nor double-count', async () => {
    const a = { instance: 'a' };
    const b = { instance: 'b' };
    // Canary requests on two processes: b restarts (1500 → 40), then a is missing from one scrape.
    const cn = [series([a, 1000], [b, 1500]), series([a, 1100], [b, 40]), series([b, 90]), series([a, 1300], [b, 140])];
    const bn = [series([a, 5000]), series([a, 6000]), series([a, 7000]), series([a, 8000])];
    const gate = new Gate(rules([baseline]), scriptedMetrics({ cn, bn }), 2000);
    let last;
    for (let i = 0; i < 4; i++) last = await gate.evaluate(at(i * 2000));
    // a: +100, +0 (absent), +200; b: +40 (reset), +50, +50.
    expect(last!.readings[0]!.comparison!.canary.requests).toBe(100 + 200 + 40 + 50 + 50);
    expect(last!.readings[0]!.comparison!.stable.requests).toBe(3000);
  });

  it('holds the counts of a side until the other has served too, then weighs them together (scrapes land at different moments)', async () => {
    // Stable's scrape shows up at look 2, the canary's at look 3.
    const gate = new Gate(
      rules([baseline]),
      scriptedMetrics({ cn: [0, 0, 50], cf: [0, 0, 1], bn: [0, 500, 500, 1000], bf: [0, 5, 5, 6] }),
      2000,
    );
    for (let i = 0; i < 2; i++) expect((await gate.evaluate(at(i * 2000))).readings[0]!.detail).toBe('no canary request counted yet');
    const verdict = await gate.evaluate(at(4000));
    expect(verdict.readings[0]!.comparison).toMatchObject({
      canary: { failures: 1, requests: 50 },
      stable: { failures: 5, requests: 500 },
    });
    const next = await gate.evaluate(at(6000));
    // Stable alone moved: held, not weighed.
    expect(next.readings[0]!.comparison).toMatchObject({ canary: { failures: 1, requests: 50 }, stable: { failures: 5, requests: 500 } });
  });

  it('reads a canary total with no series as silence, not as zero traffic', async () => {
    const gate = new Gate(rules([baseline]), scriptedMetrics({ bn: [1000] }), 2000);
    const verdict = await gate.evaluate(at(0));
    expect(verdict.status).toBe('wait');
    expect(verdict.readings[0]!.detail).toBe('no data: no canary traffic counted: total-query has no series');
  });

  it('looks at every scrape: comparisons at half the scrape interval, thresholds every interval', async () => {
    const gate = new Gate(
      rules([baseline, { name: 'errors', query: 'q', max: 1 }]),
      scriptedMetrics({ q: [0], cn: [0], bn: [0], 'sum(q)': [0] }, { scrapeIntervalMs: 1000 }),
      2000,
    );
    await gate.preflight();
    expect(gate.lookEveryMs).toBe(500);
    await gate.evaluate(at(0));
    expect(gate.nextLookAt()).toBe(500);
    const verdict = await gate.evaluate(at(500, { everyRule: false }));
    expect(verdict.readings.map((r) => r.rule)).toEqual(['vs-stable']);
    expect((await gate.evaluate(at(2000, { everyRule: false }))).readings.map((r) => r.rule)).toEqual(['vs-stable', 'errors']);
  });
});

describe('Gate: latency against stable', () => {
  const buckets = (counts: Record<string, number>) =>
    series(...Object.entries(counts).map(([le, n]) => [{ le }, n] as [Record<string, string>, number]));
  const latency = {
    name: 'latency-vs-stable',
    query: 'sum by (le) (h_bucket{side="canary"})',
    'baseline-query': 'sum by (le) (h_bucket{side="stable"})',
    quantile: 0.95,
  };

  it('splits at stable’s p95 bucket and finds a canary with far more slow requests worse', async () => {
    const look = (i: number, slowShare: number) => {
      const n = 2000 * i;
      return buckets({ '0.1': n * 0.5, '0.25': n * (1 - slowShare), '0.5': n * (1 - slowShare / 4), '+Inf': n });
    };
    const canary = Array.from({ length: 12 }, (_, i) => look(i, 0.2));
    const stable = Array.from({ length: 12 }, (_, i) => look(i, 0.04));
    const gate = new Gate(
      rules([latency]),
      scriptedMetrics({ 'h_bucket{side="canary"}': canary, 'h_bucket{side="stable"}': stable }),
      2000,
    );
    let verdict;
    for (let i = 0; i < 12; i++) {
      verdict = await gate.evaluate(at(i * 2000));
      if (verdict.status === 'fail') break;
    }
    expect(verdict!.status).toBe('fail');
    expect(verdict!.readings[0]!.comparison!.slowerThan).toBe(0.25);
    expect(verdict!.reason).toMatch(/slower than 0.25s .* the canary is slower than stable$/);
  });
});

describe('Gate.preflight', () => {
  const threshold = [{ name: 'errors', query: 'sum(rate(http_requests_total{status=~"5.."}[1m]))', max: 0.01 }];

  it('refuses a query Prometheus rejects, naming the rule, the query and Prometheus’ words', async () => {
    const q = 'sum(rate(x[1m]) /';
    const metrics = scriptedMetrics({
      [q]: [new QueryRejectedError(q, 'invalid parameter "query": 1:19: parse error: unclosed left parenthesis')],
    });
    const error = await new Gate(rules([{ name: 'errors', query: q, max: 1 }]), metrics, 1000).preflight().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      'Input "gate": errors: query sum(rate(x[1m]) /: Prometheus rejected it: invalid parameter "query": 1:19: parse error: unclosed left parenthesis',
    );
  });

  it('refuses a matcher on a label the metric does not have', async () => {
    const metrics = scriptedMetrics({}, { labels: { http_requests_total: ['__name__', 'code', 'instance', 'job'] } });
    await expect(new Gate(rules(threshold), metrics, 1000).preflight()).rejects.toThrow(
      'Input "gate": errors: query sum(rate(http_requests_total{status=~"5.."}[1m])): the metric http_requests_total has no label "status", so status=~"5.." can never match (its labels: code, instance, job)',
    );
  });

  it('refuses a metric with no series', async () => {
    const metrics = scriptedMetrics({}, { labels: { http_requests_total: [] } });
    await expect(new Gate(rules(threshold), metrics, 1000).preflight()).rejects.toThrow(
      /the metric http_requests_total has no series in Prometheus/,
    );
  });

  it('refuses a comparison that is not a sum of counters', async () => {
    const metrics = scriptedMetrics({});
    const rule = { ...baseline, query: 'sum(rate(cf[1m]))' };
    await expect(new Gate(rules([rule]), metrics, 1000).preflight()).rejects.toThrow(
      /vs-stable: query sum\(rate\(cf\[1m\]\)\): must be sum\(<selector>\) of a cumulative counter/,
    );
  });

  it('will not start when Prometheus cannot be asked', async () => {
    const metrics = scriptedMetrics({
      'sum(rate(http_requests_total{status=~"5.."}[1m]))': [{ noData: 'Prometheus unreachable: ECONNREFUSED' }],
    });
    const error = await new Gate(rules(threshold), metrics, 1000).preflight().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /^Cannot check the gate before moving traffic: errors: query .*: Prometheus unreachable: ECONNREFUSED$/,
    );
  });
});

describe('gate rules', () => {
  it('fill Argo-like defaults', () => {
    const [rule] = rules([{ name: 'errors', query: 'q', max: 1 }]);
    expect(rule).toMatchObject({ kind: 'threshold', 'failure-limit': 1, 'initial-delay': 0, 'no-data-limit': 4 });
    const [b] = rules([baseline]);
    expect(b).toMatchObject({ kind: 'baseline', 'max-ratio': 2, 'max-increase': 0.001, confidence: 0.99 });
    const [l] = rules([{ name: 'l', query: 'a', 'baseline-query': 'b', quantile: 0.95 }]);
    expect(l).toMatchObject({ kind: 'latency', 'max-ratio': 1.5, confidence: 0.99 });
  });

  it('refuse duplicate names and a baseline rule without its counters', () => {
    expect(
      gateSchema.safeParse([
        { name: 'a', query: 'q', max: 1 },
        { name: 'a', query: 'q', max: 1 },
      ]).success,
    ).toBe(false);
    const result = gateSchema.safeParse([{ name: 'b', query: 'a', 'baseline-query': 'c' }]);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('0.total-query');
  });
});
