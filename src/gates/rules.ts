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
  /** How many intervals of silence (no data, NaN, query errors) are tolerated after a weight change or the last data. */
  'no-data-limit': z.number().int().min(1).default(4),
  /** Below this many canary requests a reading is not evidence, and counts as no data. */
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

/**
 * Canary against baseline (stable) on cumulative counters: failures and requests on each side.
 * A sequential probability ratio test decides as soon as the evidence suffices.
 */
export const baselineRuleSchema = z.strictObject({
  ...common,
  query: z.string().trim().min(1, 'query is empty'),
  'total-query': z.string().trim().min(1, 'total-query is required with baseline-query'),
  'baseline-query': z.string().trim().min(1),
  'baseline-total-query': z.string().trim().min(1, 'baseline-total-query is required with baseline-query'),
  /** The canary's failure rate, as a multiple of the baseline's, that the test is built to catch. */
  'max-ratio': z.number().gt(1, 'max-ratio must be above 1').default(2),
  /** Probability of not reverting a canary as good as stable (and of catching one max-ratio worse). */
  confidence: z.number().gt(0.5).lt(1, 'confidence must be below 1, e.g. 0.99').default(0.99),
});

export type ThresholdRule = z.output<typeof thresholdRuleSchema> & { kind: 'threshold' };
export type BaselineRule = z.output<typeof baselineRuleSchema> & { kind: 'baseline' };
export type GateRule = ThresholdRule | BaselineRule;

export const gateSchema = z
  .array(
    z.unknown().transform((value, ctx): GateRule => {
      const isBaseline = typeof value === 'object' && value !== null && 'baseline-query' in value;
      const schema = isBaseline ? baselineRuleSchema : thresholdRuleSchema;
      const result = schema.safeParse(value);
      if (!result.success) {
        for (const issue of result.error.issues) ctx.addIssue({ ...issue, code: 'custom', path: issue.path });
        return z.NEVER;
      }
      return { ...result.data, kind: isBaseline ? 'baseline' : 'threshold' } as GateRule;
    }),
    { error: 'must be a YAML list of rules' },
  )
  .min(1, 'needs at least one rule')
  .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, 'rule names must be unique');

export const GATE_EXAMPLE = `gate: "[{name: error-rate, query: 'sum(rate(http_requests_total{version=\\"canary\\",code=~\\"5..\\"}[1m])) / sum(rate(http_requests_total{version=\\"canary\\"}[1m]))', max: 0.01}]"`;
