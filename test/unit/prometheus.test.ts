import { describe, expect, it } from 'vitest';
import { readingFromResponse } from '../../src/metrics/prometheus.ts';

// Answers as Prometheus' HTTP API documents them for instant queries.
describe('readingFromResponse', () => {
  it('reads a one-sample vector and a scalar', () => {
    expect(
      readingFromResponse({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.25'] }] } }),
    ).toEqual({ value: 0.25 });
    expect(readingFromResponse({ status: 'success', data: { resultType: 'scalar', result: [1, '3'] } })).toEqual({ value: 3 });
  });

  it.each([
    [{ status: 'success', data: { resultType: 'vector', result: [] } }, 'empty result'],
    [{ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'NaN'] }] } }, 'value is NaN'],
    [{ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '+Inf'] }] } }, 'value is +Inf'],
    [
      {
        status: 'success',
        data: {
          resultType: 'vector',
          result: [
            { metric: { a: '1' }, value: [1, '1'] },
            { metric: { a: '2' }, value: [1, '2'] },
          ],
        },
      },
      'the query returned 2 series; aggregate it to one (e.g. sum(...))',
    ],
    [{ status: 'success', data: { resultType: 'matrix', result: [] } }, 'the query returned a matrix; it must return one number'],
    [{ status: 'error', error: 'parse error' }, 'query failed: parse error'],
  ] as const)('turns %j into no data', (body, why) => {
    expect(readingFromResponse(body as Parameters<typeof readingFromResponse>[0])).toEqual({ noData: why });
  });
});
