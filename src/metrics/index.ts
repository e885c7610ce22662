import { z } from 'zod';
import { prometheus, prometheusSchema } from './prometheus.ts';
import type { MetricsProvider } from './provider.ts';

export const metricsSchema = z.discriminatedUnion('type', [prometheusSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be prometheus' : undefined),
});

export type MetricsConfig = z.output<typeof metricsSchema>;

export const METRICS_EXAMPLE = 'metrics: "{type: prometheus, address: http://prometheus:9090}"';

export function createMetrics(config: MetricsConfig): MetricsProvider {
  return prometheus(config);
}

/** Values that must never reach a log: the caller masks them. */
export function metricsSecrets(config: MetricsConfig): string[] {
  return [config['bearer-token'], ...Object.values(config.headers)].filter((v): v is string => !!v);
}
