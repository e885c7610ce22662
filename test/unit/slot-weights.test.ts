import { describe, expect, it } from 'vitest';
import { formatRecord, parseRecord } from '../../src/slots/record.ts';
import { describeRelease, versionOf } from '../../src/slots/release.ts';
import { currentShare, splitWeights } from '../../src/slots/weights.ts';

const digest = `sha256:4f1c2a${'0'.repeat(58)}`;

describe('splitWeights', () => {
  it('gives one-server pools the percentages themselves, and 100 to a pool at rest', () => {
    expect(splitWeights(10, 1, 1, 256)).toEqual({ canary: [10], stable: [90], share: 10 });
    expect(splitWeights(0, 2, 2, 256)).toEqual({ canary: [0, 0], stable: [100, 100], share: 0 });
    expect(splitWeights(100, 1, 3, 256)).toEqual({ canary: [100], stable: [0, 0, 0], share: 100 });
  });

  it('keeps each pool exactly at its percentage whatever the pool sizes, within the largest weight', () => {
    for (const max of [256, 1000])
      for (let percent = 1; percent < 100; percent++)
        for (const [m, n] of [
          [1, 2],
          [2, 1],
          [2, 2],
          [3, 2],
          [1, 3],
          [4, 3],
        ] as const) {
          const split = splitWeights(percent, m, n, max);
          expect(Math.max(...split.canary, ...split.stable)).toBeLessThanOrEqual(max);
          expect(Math.min(...split.canary, ...split.stable)).toBeGreaterThanOrEqual(1);
          const c = split.canary.reduce((a, b) => a + b, 0);
          const s = split.stable.reduce((a, b) => a + b, 0);
          if (split.share === percent) expect(c * (100 - percent)).toBe(s * percent);
          else expect(Math.abs(split.share - percent)).toBeLessThan(1);
        }
    expect(splitWeights(25, 2, 3, 256)).toEqual({ canary: [75, 75], stable: [150, 150, 150], share: 25 });
  });

  it('reads a share back from weights', () => {
    expect(currentShare([75, 75], [150, 150, 150])).toBe(25);
    expect(currentShare([0], [0])).toBe(0);
  });
});

describe('the router record', () => {
  it('round-trips validated values and refuses anything else', () => {
    const record = {
      live: 'green' as const,
      kept: 'blue' as const,
      slots: { blue: { artifact: `ghcr.io/a/app:v2@${digest}`, version: 'v2' } },
    };
    const text = formatRecord(record);
    expect(text).toBe(`live=green kept=blue blue=ghcr.io/a/app:v2@${digest} blue-version=v2`);
    expect(parseRecord(text)).toEqual({ record });
    expect(parseRecord('live=blue blue=app:v1\\n server 127.0.0.1:21666 weight=100;')).toHaveProperty('problem');
    expect(parseRecord('live=purple')).toHaveProperty('problem');
    expect(parseRecord('live=blue kept=blue')).toHaveProperty('problem');
    expect(parseRecord('live=blue evil=1')).toHaveProperty('problem');
    expect(() => formatRecord({ live: 'blue', slots: { blue: { artifact: 'a b', version: 'v1' } } })).toThrow(/invalid router record/);
  });
});

describe('versions', () => {
  it('names a release by the given version, the tag, the plain version or the short digest', () => {
    expect(versionOf(`ghcr.io/a/app@${digest}`, 'v3')).toBe('v3');
    expect(versionOf(`ghcr.io/a/app:v3@${digest}`)).toBe('v3');
    expect(versionOf('127.0.0.1:5000/app:1.4.2')).toBe('1.4.2');
    expect(versionOf('v1.4.2')).toBe('v1.4.2');
    expect(versionOf(`127.0.0.1:5000/app@${digest}`)).toBe('sha256:4f1c2a');
    expect(describeRelease({ artifact: `ghcr.io/a/app:v3@${digest}`, version: 'v3' })).toBe('v3 (sha256:4f1c2a…)');
    expect(describeRelease({ artifact: `ghcr.io/a/app@${digest}`, version: 'sha256:4f1c2a' })).toBe('sha256:4f1c2a…');
    expect(describeRelease({ artifact: 'v3', version: 'v3' })).toBe('v3');
  });
});
