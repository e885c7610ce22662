import { z } from 'zod';
import { parseSteps, type Step } from '../../canary/schedule.ts';
import { parseDuration } from '../../core/durations.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { GATE_EXAMPLE, gateSchema, type GateRule } from '../../gates/rules.ts';
import { METRICS_EXAMPLE, metricsSchema, type MetricsConfig } from '../../metrics/index.ts';
import { ROUTER_EXAMPLE, routerSchema, type RouterConfig } from '../../routers/index.ts';
import { Inputs } from './constants.ts';

export interface CanaryInputs {
  steps: Step[];
  intervalMs: number;
  router: RouterConfig;
  metrics: MetricsConfig;
  gate: GateRule[];
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
  for (const rule of gate) {
    if (rule['initial-delay'] >= totalHoldMs && totalHoldMs > 0) {
      throw new ConfigurationError(
        Inputs.Gate,
        `${rule.name}: initial-delay is not shorter than the holds together, so the rule would never be evaluated`,
        'initial-delay: 30s',
      );
    }
  }
  return { steps, intervalMs, router, metrics, gate };
}
