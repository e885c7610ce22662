import { describe, expect, it } from 'vitest';
import { parseSteps } from '../../src/canary/schedule.ts';
import { durationMs, formatDuration } from '../../src/core/durations.ts';

describe('parseSteps', () => {
  it('reads weights and holds, ending at 100% with no hold', () => {
    expect(parseSteps('5%:2m, 25%:5m, 50%:90s, 100%')).toEqual([
      { weight: 5, holdMs: 120_000 },
      { weight: 25, holdMs: 300_000 },
      { weight: 50, holdMs: 90_000 },
      { weight: 100, holdMs: 0 },
    ]);
  });

  it('tolerates spaces and newlines around items', () => {
    expect(parseSteps(' 10% : 30s ,\n 100% ')).toEqual([
      { weight: 10, holdMs: 30_000 },
      { weight: 100, holdMs: 0 },
    ]);
  });

  it.each([
    ['', /is empty/],
    ['0%:1m, 100%', /above 0%/],
    ['50%:1m, 50%:1m, 100%', /must increase/],
    ['10%, 100%', /needs a hold time/],
    ['10%:1m, 100%:1m', /final 100% takes no hold/],
    ['10%:1m, 90%:1m', /must end with 100%/],
    ['2.5%:1m, 100%', /whole-number weight/],
    ['10%:0s, 100%', /not a positive duration/],
    ['ten%:1m, 100%', /not WEIGHT%:HOLD/],
  ])('rejects %j', (text, message) => {
    expect(() => parseSteps(text)).toThrow(message);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
  ])('%s is %d ms', (text, ms) => expect(durationMs(text)).toBe(ms));

  it.each(['', '0s', '-1s', '5', 'soon', '1x', '1s garbage'])('%j is not a duration', (text) => {
    expect(durationMs(text)).toBeUndefined();
  });

  it('formats for people', () => {
    expect([formatDuration(250), formatDuration(2500), formatDuration(90_000), formatDuration(120_000)]).toEqual([
      '250ms',
      '2.5s',
      '1m30s',
      '2m',
    ]);
  });
});
