import { z } from 'zod';
import { duration, name } from '../core/validate.ts';

const bound = (field: string) =>
  z.number({ error: `${field} must be a number, e.g. ${field}: 0.05` }).refine(Number.isFinite, `${field} must be a finite number`);

/** Knobs every rule has, named as Argo Rollouts names them where it has them. */
const common = {
  name: name('name'),
  /** Consecutive out-of-bounds evaluations before the gate fails. */
  'failure-limit': z.number().int().min(1).default(1),
  /** No evaluation of this rule until this long after the first canary weight was set. */
  'initial-delay': duration('30s').default(0),
  /** How many intervals of silence (no series, NaN, query errors) are tolerated after a weight change or the last data. */
  'no-data-limit': z.number().int().min(1).default(4),
  /** Below this many canary requests a reading is not evidence yet: inconclusive, never a pass. */
  'min-requests': z.number().int().min(1).optional(),
};

export const thresholdRuleSchema = z
  .strictObject({
    ...common,
    query: z.string().trim().min(1, 'query is empty'),
    max: bound('max').optional(),
    min: bound('min').optional(),
    /** Canary requests in the same window as `query`, for min-requests. */
    'requests-query': z.string().trim().min(1).optional(),
  })
  .refine((r) => r.max !== undefined || r.min !== undefined, { message: 'give max, min or both', path: ['max'] })
  .refine((r) => r.max === undefined || r.min === undefined || r.min <= r.max, { message: 'min is above max', path: ['min'] })
  .refine((r) => (r['min-requests'] === undefined) === (r['requests-query'] === undefined), {
    message: 'min-requests and requests-query go together',
    path: ['requests-query'],
  });

/** What a comparison with stable tolerates, and how sure each decision must be. */
const tolerance = (maxRatio: number) => ({
  /** The canary may fail at most this many times as often as stable… */
  'max-ratio': z.number().gt(1, 'max-ratio must be above 1').default(maxRatio),
  /** …or at most this much more often, as a share of requests (0.001 = 0.1 percentage points). */
  'max-increase': z.number().min(0).lt(1, 'max-increase is a share of requests, e.g. 0.001').default(0.001),
  /** The chance of each wrong decision (revert an equal canary, pass a worse one) is at most 1 − confidence. */
  confidence: z.number().gt(0.5).lt(1, 'confidence must be below 1, e.g. 0.99').default(0.99),
});

/**
 * Canary against baseline (stable) on cumulative counters, `sum(<selector>)` each: failures and
 * requests on each side, weighed by a sequential test with three outcomes.
 */
export const baselineRuleSchema = z.strictObject({
  ...common,
  query: z.string().trim().min(1, 'query is empty'),
  'total-query': z.string().trim().min(1, 'total-query is required with baseline-query'),
  'baseline-query': z.string().trim().min(1),
  'baseline-total-query': z.string().trim().min(1, 'baseline-total-query is required with baseline-query'),
  ...tolerance(2),
});

/**
 * Canary latency against stable's, from histograms (`sum by (le) (<…_bucket selector>)` each side):
 * the requests slower than the bucket boundary at stable's `quantile`, weighed as failures are.
 */
export const latencyRuleSchema = z.strictObject({
  ...common,
  query: z.string().trim().min(1, 'query is empty'),
  'baseline-query': z.string().trim().min(1),
  quantile: z.number().gt(0.5, 'quantile must be above 0.5, e.g. 0.95').lt(1, 'quantile must be below 1, e.g. 0.95'),
  ...tolerance(1.5),
});

export type ThresholdRule = z.output<typeof thresholdRuleSchema> & { kind: 'threshold' };
export type BaselineRule = z.output<typeof baselineRuleSchema> & { kind: 'baseline' };
export type LatencyRule = z.output<typeof latencyRuleSchema> & { kind: 'latency' };
export type ComparisonRule = BaselineRule | LatencyRule;
export type GateRule = ThresholdRule | ComparisonRule;

function kindOf(value: unknown): GateRule['kind'] {
  if (typeof value !== 'object' || value === null) return 'threshold';
  if ('quantile' in value) return 'latency';
  return 'baseline-query' in value ? 'baseline' : 'threshold';
}

const schemas = { threshold: thresholdRuleSchema, baseline: baselineRuleSchema, latency: latencyRuleSchema } as const;

export const gateSchema = z
  .array(
    z.unknown().transform((value, ctx): GateRule => {
      const kind = kindOf(value);
      const result = schemas[kind].safeParse(value);
      if (!result.success) {
        for (const issue of result.error.issues) ctx.addIssue({ ...issue, code: 'custom', path: issue.path });
        return z.NEVER;
      }
      return { ...result.data, kind } as GateRule;
    }),
    { error: 'must be a YAML list of rules' },
  )
  .min(1, 'needs at least one rule')
  .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, 'rule names must be unique');

/** Every query of a rule with the field it came from, in the order the rule lists them. */
export function queriesOf(rule: GateRule): Array<[field: string, query: string]> {
  const fields =
    rule.kind === 'threshold'
      ? ['query', 'requests-query']
      : rule.kind === 'baseline'
        ? ['query', 'total-query', 'baseline-query', 'baseline-total-query']
        : ['query', 'baseline-query'];
  return fields.flatMap((field) => {
    const query = (rule as unknown as Record<string, string | undefined>)[field];
    return query === undefined ? [] : [[field, query] as [string, string]];
  });
}

/** The rule with every query rewritten (placeholders filled in for this run). */
export function mapQueries<R extends GateRule>(rule: R, map: (query: string) => string): R {
  const copy = { ...rule } as unknown as Record<string, unknown>;
  for (const [field, query] of queriesOf(rule)) copy[field] = map(query);
  return copy as unknown as R;
}

export const GATE_EXAMPLE = `gate: "[{name: error-rate, query: 'sum(rate(http_requests_total{instance=~\\"{canary-instances}\\",code=~\\"5..\\"}[1m])) / sum(rate(http_requests_total{instance=~\\"{canary-instances}\\"}[1m]))', max: 0.01}]"`;
