import { describe, expect, it } from 'vitest';
import { vectorFromResponse } from '../../src/metrics/prometheus.ts';
import { singleValue } from '../../src/metrics/provider.ts';

// Answers as Prometheus' HTTP API documents them for instant queries.
describe('vectorFromResponse and singleValue', () => {
  it('reads every series of a vector, and a scalar as one series', () => {
    const body = {
      status: 'success' as const,
      data: {
        resultType: 'vector',
        result: [
          { metric: { instance: 'a' }, value: [1, '0.25'] },
          { metric: { instance: 'b' }, value: [1, '2'] },
        ],
      },
    };
    expect(vectorFromResponse(body)).toEqual({
      series: [
        { labels: { instance: 'a' }, value: 0.25 },
        { labels: { instance: 'b' }, value: 2 },
      ],
    });
    expect(singleValue(vectorFromResponse({ status: 'success', data: { resultType: 'scalar', result: [1, '3'] } }))).toEqual({ value: 3 });
  });

  it.each([
    [{ status: 'success', data: { resultType: 'vector', result: [] } }, 'empty result'],
    [{ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'NaN'] }] } }, 'value is NaN'],
    [{ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '+Inf'] }] } }, 'value is Infinity'],
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
    [
      { status: 'success', data: { resultType: 'matrix', result: [] } },
      'the query returned a matrix; it must return an instant vector or a number',
    ],
    [{ status: 'error', error: 'timeout\n::error::forged' }, 'query failed: timeout\\n::error::forged'],
  ] as const)('turns %j into no data', (body, why) => {
    expect(singleValue(vectorFromResponse(body as Parameters<typeof vectorFromResponse>[0]))).toEqual({ noData: why });
  });
});
