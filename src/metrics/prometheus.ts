import { z } from 'zod';
import { errorMessage } from '../core/errors.ts';
import { parseJson, readBounded, send } from '../core/http.ts';
import { logText } from '../core/untrusted.ts';
import { duration, httpUrl } from '../core/validate.ts';
import { promDurationMs } from './promql.ts';
import { type MetricsProvider, QueryRejectedError, type VectorReading } from './provider.ts';

export const prometheusSchema = z.strictObject({
  type: z.literal('prometheus'),
  address: httpUrl,
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'header names are letters, digits and "-"'), z.string()).default({}),
  'bearer-token': z.string().optional(),
  timeout: duration('5s').default(5000),
});

export type PrometheusConfig = z.output<typeof prometheusSchema>;

/** Answers are a few series; a megabyte-scale answer means a query that selects far too much. */
const ANSWER_LIMIT = 4 * 1024 * 1024;

interface ApiAnswer {
  status?: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: unknown;
}

/** A sample value as Prometheus writes it: a decimal, `NaN`, `+Inf` or `-Inf`. */
const sampleValue = (text: string | undefined) => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text));

/** Reads the series out of a Prometheus instant-query answer (`data` of `/api/v1/query`). */
export function vectorFromResponse(body: ApiAnswer): VectorReading {
  if (body.status !== 'success' || !body.data) return { noData: `query failed: ${logText(body.error ?? 'no data in the answer')}` };
  const { resultType, result } = body.data as { resultType?: string; result?: unknown };
  if (resultType === 'scalar') return { series: [{ labels: {}, value: sampleValue((result as [number, string])[1]) }] };
  if (resultType !== 'vector' || !Array.isArray(result)) {
    return { noData: `the query returned a ${logText(String(resultType))}; it must return an instant vector or a number` };
  }
  return {
    series: (result as Array<{ metric?: Record<string, string>; value?: [number, string] }>).map((s) => ({
      labels: s.metric ?? {},
      value: sampleValue(s.value?.[1]),
    })),
  };
}

/** Prometheus' HTTP API: instant queries, label names and targets, through the shared HTTP stack. */
export function prometheus(config: PrometheusConfig): MetricsProvider {
  const base = config.address.endsWith('/') ? config.address : `${config.address}/`;
  const headers: Record<string, string> = { accept: 'application/json', ...config.headers };
  if (config['bearer-token']) headers.authorization = `Bearer ${config['bearer-token']}`;

  /** One API call; the answer's JSON, or why there is none. A 400 is returned as the answer it is. */
  const call = async (
    path: string,
    params: URLSearchParams,
    signal: AbortSignal | undefined,
    post: boolean,
  ): Promise<{ status: number; body: ApiAnswer } | { noData: string }> => {
    try {
      const url = new URL(path, base);
      if (!post) url.search = params.toString();
      const response = await send(url, {
        method: post ? 'POST' : 'GET',
        headers: post ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' } : headers,
        body: post ? params.toString() : undefined,
        timeoutMs: config.timeout,
        signal,
      });
      const text = (await readBounded(response.body, ANSWER_LIMIT, `Prometheus' answer to ${path}`)).toString('utf8');
      if (response.statusCode >= 500 || response.statusCode === 401 || response.statusCode === 403 || response.statusCode === 404) {
        return { noData: `Prometheus answered HTTP ${response.statusCode}` };
      }
      return { status: response.statusCode, body: parseJson(text, 'Prometheus', 'its API answer') as ApiAnswer };
    } catch (error) {
      return { noData: `Prometheus unreachable: ${logText(errorMessage(error))}` };
    }
  };

  return {
    description: `Prometheus at ${config.address}`,
    async vector(query, signal) {
      const answer = await call('api/v1/query', new URLSearchParams({ query }), signal, true);
      if ('noData' in answer) return answer;
      if (answer.status === 400 && answer.body.errorType === 'bad_data')
        throw new QueryRejectedError(query, answer.body.error ?? 'bad_data');
      return vectorFromResponse(answer.body);
    },
    async labelNames(selector, signal) {
      const answer = await call('api/v1/labels', new URLSearchParams({ 'match[]': selector }), signal, false);
      if ('noData' in answer) return answer;
      if (answer.body.status !== 'success' || !Array.isArray(answer.body.data)) {
        return { noData: `the labels API failed: ${logText(answer.body.error ?? `HTTP ${answer.status}`)}` };
      }
      return (answer.body.data as unknown[]).filter((n): n is string => typeof n === 'string');
    },
    async scrapeIntervalMs(signal) {
      const answer = await call('api/v1/targets', new URLSearchParams({ state: 'active' }), signal, false);
      if ('noData' in answer || answer.body.status !== 'success') return undefined;
      const targets = (answer.body.data as { activeTargets?: Array<{ scrapeInterval?: unknown }> } | undefined)?.activeTargets ?? [];
      const intervals = targets
        .map((t) => (typeof t.scrapeInterval === 'string' ? promDurationMs(t.scrapeInterval) : undefined))
        .filter((ms): ms is number => ms !== undefined && ms > 0);
      return intervals.length ? Math.min(...intervals) : undefined;
    },
  };
}
