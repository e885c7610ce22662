import { z } from 'zod';
import { errorMessage } from '../core/errors.ts';
import { parseJson, readBounded, send } from '../core/http.ts';
import { duration, httpUrl } from '../core/validate.ts';
import type { MetricsProvider, Reading } from './provider.ts';

export const prometheusSchema = z.strictObject({
  type: z.literal('prometheus'),
  address: httpUrl,
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'header names are letters, digits and "-"'), z.string()).default({}),
  'bearer-token': z.string().optional(),
  timeout: duration('5s').default(5000),
});

export type PrometheusConfig = z.output<typeof prometheusSchema>;

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: 'vector' | 'scalar' | 'matrix' | 'string'; result: unknown };
}

/** Reads one number out of a Prometheus instant-query answer. */
export function readingFromResponse(body: QueryResponse): Reading {
  if (body.status !== 'success' || !body.data) return { noData: `query failed: ${body.error ?? 'no data in the answer'}` };
  const { resultType, result } = body.data;
  let text: string;
  if (resultType === 'scalar') {
    text = (result as [number, string])[1];
  } else if (resultType === 'vector') {
    const samples = result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    if (samples.length === 0) return { noData: 'empty result' };
    if (samples.length > 1) return { noData: `the query returned ${samples.length} series; aggregate it to one (e.g. sum(...))` };
    text = samples[0]!.value[1];
  } else {
    return { noData: `the query returned a ${resultType}; it must return one number` };
  }
  const value = Number(text);
  return Number.isFinite(value) ? { value } : { noData: `value is ${text}` };
}

/** Instant queries against Prometheus' HTTP API (`POST /api/v1/query`). */
export function prometheus(config: PrometheusConfig): MetricsProvider {
  const endpoint = new URL('api/v1/query', config.address.endsWith('/') ? config.address : `${config.address}/`);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    ...config.headers,
  };
  if (config['bearer-token']) headers.authorization = `Bearer ${config['bearer-token']}`;
  return {
    description: `Prometheus at ${config.address}`,
    async query(query, signal) {
      try {
        const response = await send(endpoint, {
          method: 'POST',
          headers,
          body: new URLSearchParams({ query }).toString(),
          timeoutMs: config.timeout,
          ...(signal ? { signal } : {}),
        });
        const text = (await readBounded(response.body, 16 * 1024 * 1024, `Prometheus at ${config.address}`)).toString('utf8');
        if (response.statusCode >= 500 || response.statusCode === 401 || response.statusCode === 403) {
          return { noData: `Prometheus answered HTTP ${response.statusCode}` };
        }
        return readingFromResponse(parseJson(text, `Prometheus at ${config.address}`, 'a query result') as QueryResponse);
      } catch (error) {
        return { noData: `Prometheus unreachable: ${errorMessage(error)}` };
      }
    },
  };
}
