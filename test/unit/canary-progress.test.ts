import { describe, expect, it } from 'vitest';
import { progressDescription } from '../../src/canary/release.ts';

const event = (
  rules: Array<{ rule: string; state: 'pass' | 'breach' | 'inconclusive' | 'not worse' | 'worse' | 'no-data' }>,
  extending = false,
) => ({ kind: 'look', step: 2, steps: 4, weight: 25, at: 61_000, rules, extending }) as const;

describe('the canary progress a deployment shows', () => {
  it('names the step, its weight and hold, and each rule in words', () => {
    expect(
      progressDescription(
        'v4 (sha256:444444…)',
        event([
          { rule: 'error-rate', state: 'pass' },
          { rule: 'errors-vs-stable', state: 'inconclusive' },
        ]),
        300_000,
      ),
    ).toBe('Canary v4 (sha256:444444…): 25% (step 2/4, 5m hold); gate: error-rate ok, errors-vs-stable inconclusive');
  });

  it('says when a hold is extended for evidence, and that the gate watches before its first look', () => {
    expect(progressDescription('v4', event([{ rule: 'errors-vs-stable', state: 'not worse' }], true), 30_000)).toBe(
      'Canary v4: 25% (step 2/4, 30s hold, extended); gate: errors-vs-stable not worse',
    );
    expect(progressDescription('v4', event([]), 30_000)).toBe('Canary v4: 25% (step 2/4, 30s hold), gate watching');
  });

  it('keeps within the 140 characters GitHub stores, dropping rules from the end', () => {
    const many = Array.from({ length: 8 }, (_, i) => ({ rule: `a-rather-long-rule-name-${i}`, state: 'breach' as const }));
    const text = progressDescription('v10 (sha256:0123456789ab…)', event(many), 300_000);
    expect(text.length).toBeLessThanOrEqual(140);
    expect(text).toMatch(
      /^Canary v10 \(sha256:0123456789ab…\): 25% \(step 2\/4, 5m hold\); gate: a-rather-long-rule-name-0 out of bounds, .*…$/,
    );
  });
});
