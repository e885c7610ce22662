/** What one query returned: a number, or why there is none (empty result, NaN, an error). */
export type Reading = { value: number } | { noData: string };

export interface MetricsProvider {
  readonly description: string;
  /** Never throws for data problems: an outage or an empty answer is a Reading with `noData`. */
  query(query: string, signal?: AbortSignal): Promise<Reading>;
}

export const hasValue = (reading: Reading): reading is { value: number } => 'value' in reading;
