import { z } from 'zod';
import type { InconclusivePolicy } from '../../canary/ramp.ts';
import { parseSteps, type Step } from '../../canary/schedule.ts';
import { parseDuration } from '../../core/durations.ts';
import { ConfigurationError, errorMessage } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { innerSelector } from '../../gates/comparison.ts';
import { checkPlaceholders } from '../../gates/placeholders.ts';
import { GATE_EXAMPLE, gateSchema, type GateRule, queriesOf } from '../../gates/rules.ts';
import { PromqlSyntaxError } from '../../metrics/promql.ts';
import { METRICS_EXAMPLE, metricsSchema, type MetricsConfig } from '../../metrics/index.ts';
import { ROUTER_EXAMPLE, routerSchema, type RouterConfig } from '../../routers/index.ts';
import type { RampSides } from '../../slots/sides.ts';
import { Inputs } from './constants.ts';

export interface CanaryInputs {
  steps: Step[];
  intervalMs: number;
  router: RouterConfig;
  metrics: MetricsConfig;
  gate: GateRule[];
  inconclusive: InconclusivePolicy;
}

/**
 * Who is stable and who is the canary, as `host:port` servers, for the gate's placeholders: known
 * when the router names servers by address (nginx); a HAProxy or command router does not.
 */
export function routerSides(router: RouterConfig): RampSides | undefined {
  if (router.type !== 'nginx') return undefined;
  return { stable: { addresses: [router.stable] }, canary: { addresses: [router.canary] } };
}

/** Reads and validates every input of the canary action; nothing else happens until this returns. */
export function readCanaryInputs(getInput: (name: string) => string): CanaryInputs {
  const required = (name: string, example: string) => {
    const value = getInput(name).trim();
    if (value === '') throw new ConfigurationError(name, 'is required', example);
    return value;
  };
  const steps = parseSteps(required(Inputs.Steps, 'steps: "5%:2m, 25%:5m, 50%:5m, 100%"'));
  const intervalMs = parseDuration(getInput(Inputs.Interval).trim() || '30s', Inputs.Interval, 'interval: 30s');
  const router = parseYamlInput(Inputs.Router, required(Inputs.Router, ROUTER_EXAMPLE), routerSchema, ROUTER_EXAMPLE);
  const metrics = parseYamlInput(Inputs.Metrics, required(Inputs.Metrics, METRICS_EXAMPLE), metricsSchema, METRICS_EXAMPLE);
  const gate = parseYamlInput(Inputs.Gate, required(Inputs.Gate, GATE_EXAMPLE), gateSchema as z.ZodType<GateRule[]>, GATE_EXAMPLE);
  const totalHoldMs = steps.reduce((sum, s) => sum + s.holdMs, 0);
  const sides = routerSides(router);
  for (const rule of gate) {
    if (rule['initial-delay'] >= totalHoldMs && totalHoldMs > 0) {
      throw new ConfigurationError(
        Inputs.Gate,
        `${rule.name}: initial-delay is not shorter than the holds together, so the rule would never be evaluated`,
        'initial-delay: 30s',
      );
    }
    for (const [field, query] of queriesOf(rule)) {
      checkPlaceholders(query, `${rule.name}: ${field}`, Inputs.Gate, false);
      if (rule.kind !== 'threshold') {
        try {
          innerSelector(query, rule.kind);
        } catch (error) {
          // A query that does not parse at all is left to the preflight, which quotes Prometheus' own words.
          if (!(error instanceof PromqlSyntaxError)) {
            const example =
              rule.kind === 'baseline'
                ? `${field}: sum(http_requests_total{instance=~"{canary-instances}",code=~"5.."})`
                : `${field}: sum by (le) (http_request_duration_seconds_bucket{instance=~"{canary-instances}"})`;
            throw new ConfigurationError(Inputs.Gate, `${rule.name}: ${field}: ${errorMessage(error)}`, example);
          }
        }
      }
      if (!sides && /\{(canary|stable)-instances\}/.test(query)) {
        throw new ConfigurationError(
          Inputs.Gate,
          `${rule.name}: ${field}: {canary-instances} and {stable-instances} need a router that names its servers by host:port (nginx)`,
          'query: sum(rate(http_requests_total{version="canary"}[1m]))',
        );
      }
    }
  }
  const action = (getInput(Inputs.Inconclusive).trim() || 'extend').toLowerCase();
  if (action !== 'extend' && action !== 'revert') {
    throw new ConfigurationError(Inputs.Inconclusive, `"${action}" is not extend or revert`, 'inconclusive: extend');
  }
  const extension = getInput(Inputs.MaxExtension).trim();
  const inconclusive: InconclusivePolicy = {
    action,
    maxExtensionMs: extension ? parseDuration(extension, Inputs.MaxExtension, 'max-extension: 5m') : undefined,
  };
  return { steps, intervalMs, router, metrics, gate, inconclusive };
}
