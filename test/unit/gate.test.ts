import { describe, expect, it } from 'vitest';
import { Gate } from '../../src/gates/gate.ts';
import { gateSchema, type GateRule } from '../../src/gates/rules.ts';
import type { MetricsProvider, Reading } from '../../src/metrics/provider.ts';

/** A provider that answers each query from a script of readings, the last one repeating. */
function scripted(answers: Record<string, Reading[]>): MetricsProvider {
  const seen: Record<string, number> = {};
  return {
    description: 'scripted',
    async query(query) {
      const list = answers[query] ?? [{ noData: 'empty result' }];
      const i = (seen[query] = (seen[query] ?? -1) + 1);
      return list[Math.min(i, list.length - 1)]!;
    },
  };
}

const rules = (list: unknown[]) => gateSchema.parse(list) as GateRule[];
const at = (now: number, extra: Partial<{ weightSetAt: number; endOfHold: boolean; weight: number }> = {}) => ({
  now,
  weight: 10,
  weightSetAt: 0,
  endOfHold: false,
  ...extra,
});

describe('Gate', () => {
  it('passes within bounds and fails out of bounds with the reading in the reason', async () => {
    const gate = new Gate(rules([{ name: 'errors', query: 'q', max: 0.05 }]), scripted({ q: [{ value: 0.01 }, { value: 0.2 }] }), 2000);
    expect((await gate.evaluate(at(0))).status).toBe('pass');
    const verdict = await gate.evaluate(at(2000));
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toBe('errors: 0.2 above max 0.05');
  });

  it('fails only after failure-limit consecutive breaches, and a pass resets the count', async () => {
    const gate = new Gate(
      rules([{ name: 'latency', query: 'q', min: 1, max: 2, 'failure-limit': 2 }]),
      scripted({ q: [{ value: 3 }, { value: 1.5 }, { value: 0.5 }, { value: 0.5 }] }),
      1000,
    );
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await gate.evaluate(at(i * 1000))).readings[0]!.status);
    expect(statuses).toEqual(['breach', 'pass', 'breach', 'fail']);
  });

  it('treats silence after a weight change as not yet evidence, then fails it past the grace', async () => {
    const gate = new Gate(rules([{ name: 'errors', query: 'q', max: 0.05, 'no-data-limit': 2 }]), scripted({}), 2000);
    expect((await gate.evaluate(at(500))).status).toBe('wait');
    expect((await gate.evaluate(at(3500))).status).toBe('wait');
    const verdict = await gate.evaluate(at(4000));
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toMatch(/no data for 4.0s, past the 4s grace \(empty result\)/);
  });

  it('never promotes silence: no data at the end of a hold fails at once', async () => {
    const gate = new Gate(rules([{ name: 'errors', query: 'q', max: 0.05 }]), scripted({}), 2000);
    const verdict = await gate.evaluate(at(100, { endOfHold: true }));
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toMatch(/no data at the end of the hold/);
  });

  it('does not evaluate a rule before its initial delay', async () => {
    const gate = new Gate(
      rules([{ name: 'errors', query: 'q', max: 0.05, 'initial-delay': '10s' }]),
      scripted({ q: [{ value: 1 }] }),
      2000,
    );
    expect((await gate.evaluate(at(9000))).readings[0]!.status).toBe('delayed');
    expect((await gate.evaluate(at(10_000))).status).toBe('fail');
  });

  it('counts a reading on too few requests as no data (min-requests)', async () => {
    const gate = new Gate(
      rules([{ name: 'errors', query: 'q', max: 0.05, 'min-requests': 50, 'requests-query': 'n' }]),
      scripted({ q: [{ value: 0 }], n: [{ value: 12 }, { value: 80 }] }),
      2000,
    );
    const first = await gate.evaluate(at(0));
    expect(first.status).toBe('wait');
    expect(first.readings[0]!.detail).toBe('12 requests, below min-requests 50');
    expect((await gate.evaluate(at(2000))).status).toBe('pass');
  });

  it('compares canary to baseline sequentially and fails once the evidence suffices', async () => {
    // Both sides serve 1000 requests between looks; stable fails 0.5%, the canary 3%.
    const looks = 8;
    const counter = (perLook: number) => Array.from({ length: looks }, (_, i) => ({ value: i * perLook }));
    const gate = new Gate(
      rules([{ name: 'vs-stable', query: 'cf', 'total-query': 'cn', 'baseline-query': 'bf', 'baseline-total-query': 'bn' }]),
      scripted({ cf: counter(30), cn: counter(1000), bf: counter(5), bn: counter(1000) }),
      2000,
    );
    const statuses = [];
    for (let i = 0; i < looks; i++) {
      const verdict = await gate.evaluate(at(i * 2000, { weight: 50 }));
      statuses.push(verdict.status);
      if (verdict.status === 'fail') {
        expect(verdict.reason).toMatch(/canary 3% of \d+ vs baseline 0.5% of \d+, LLR [\d.]+ ≥ 4.595: canary fails more than stable/);
        break;
      }
    }
    expect(statuses[0]).toBe('wait');
    expect(statuses.at(-1)).toBe('fail');
    expect(statuses.length).toBeLessThanOrEqual(3);
  });

  it('reads a missing failure counter as zero failures when requests are counted', async () => {
    const gate = new Gate(
      rules([{ name: 'vs-stable', query: 'cf', 'total-query': 'cn', 'baseline-query': 'bf', 'baseline-total-query': 'bn' }]),
      scripted({ cn: [{ value: 0 }, { value: 100 }], bn: [{ value: 0 }, { value: 900 }] }),
      2000,
    );
    await gate.evaluate(at(0));
    const verdict = await gate.evaluate(at(2000));
    expect(verdict.status).toBe('pass');
    expect(verdict.readings[0]!.detail).toMatch(/^canary 0% of 100 vs baseline 0% of 900/);
  });
});

describe('gate rules', () => {
  it('fills Argo-like defaults', () => {
    const [rule] = rules([{ name: 'errors', query: 'q', max: 1 }]);
    expect(rule).toMatchObject({ kind: 'threshold', 'failure-limit': 1, 'initial-delay': 0, 'no-data-limit': 4 });
    const [baseline] = rules([{ name: 'b', query: 'a', 'total-query': 'b', 'baseline-query': 'c', 'baseline-total-query': 'd' }]);
    expect(baseline).toMatchObject({ kind: 'baseline', 'max-ratio': 2, confidence: 0.99 });
  });

  it('refuses duplicate names and a baseline rule without its counters', () => {
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
