/** One series of an instant query's answer: its labels and its value now. */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** What an instant query returned: every series, or why there is none (an outage, a bad answer). */
export type VectorReading = { series: Series[] } | { noData: string };

/** What a query that must return one number returned. */
export type Reading = { value: number } | { noData: string };

/**
 * Prometheus refused the query itself (HTTP 400 `bad_data`: a syntax error, an unknown function):
 * no later look can give it data, so it is the user's mistake, not silence.
 */
export class QueryRejectedError extends Error {
  readonly query: string;
  /** Prometheus' own words (from outside: show through logText / markdownText). */
  readonly reason: string;
  constructor(query: string, reason: string) {
    super(`Prometheus rejected the query: ${reason}`);
    this.name = 'QueryRejectedError';
    this.query = query;
    this.reason = reason;
  }
}

export interface MetricsProvider {
  readonly description: string;
  /**
   * Every series an instant query returns now. An outage or an unusable answer is `noData`;
   * a query Prometheus rejects throws QueryRejectedError.
   */
  vector(query: string, signal?: AbortSignal): Promise<VectorReading>;
  /** The label names the series matching `selector` carry (empty: no such series), or why unknown. */
  labelNames(selector: string, signal?: AbortSignal): Promise<string[] | { noData: string }>;
  /** How often Prometheus scrapes (the shortest interval of its active targets), when it says. */
  scrapeIntervalMs(signal?: AbortSignal): Promise<number | undefined>;
}

export const hasValue = (reading: Reading): reading is { value: number } => 'value' in reading;
export const hasSeries = (reading: VectorReading): reading is { series: Series[] } => 'series' in reading;

/** The one number of an answer: empty, several series or a non-finite value are no data. */
export function singleValue(reading: VectorReading): Reading {
  if (!hasSeries(reading)) return reading;
  if (reading.series.length === 0) return { noData: 'empty result' };
  if (reading.series.length > 1)
    return { noData: `the query returned ${reading.series.length} series; aggregate it to one (e.g. sum(...))` };
  const value = reading.series[0]!.value;
  return Number.isFinite(value) ? { value } : { noData: `value is ${value}` };
}
