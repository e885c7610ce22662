import { z } from 'zod';
import { parseSteps, type Step } from '../../canary/schedule.ts';
import { parseDuration } from '../../core/durations.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { routingInput } from '../../deploy/inputs.ts';
import { GATE_EXAMPLE, gateSchema, type GateRule } from '../../gates/rules.ts';
import { METRICS_EXAMPLE, metricsSchema, type MetricsConfig } from '../../metrics/index.ts';
import { isFixedRouting, isSlotRouting, routingExample, type Routing } from '../../slots/config.ts';
import { Inputs } from './constants.ts';

export interface CanaryInputs {
  steps: Step[];
  intervalMs: number;
  router: Routing;
  metrics: MetricsConfig;
  gate: GateRule[];
  /** deploy's deployment-id output: the canary reports its ramp there. */
  deploymentId: number | undefined;
  token: string | undefined;
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
  required(Inputs.Router, routingExample(Inputs.Router));
  const router = routingInput(getInput, Inputs.Router)!;
  if (router.type === 'command' && !router.command) {
    throw new ConfigurationError(
      Inputs.Router,
      'command is required: the command that sets the canary weight',
      'router: "{type: command, command: [set-weight, \'{weight}\']}"',
    );
  }
  if (router.type !== 'command' && !isSlotRouting(router) && !isFixedRouting(router)) {
    throw new ConfigurationError(Inputs.Router, 'give blue and green, or stable and canary', routingExample(Inputs.Router));
  }
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
  const idText = getInput(Inputs.DeploymentId).trim();
  if (idText && !/^[1-9]\d{0,15}$/.test(idText)) {
    throw new ConfigurationError(
      Inputs.DeploymentId,
      `"${idText}" is not a deployment id`,
      `${Inputs.DeploymentId}: \${{ needs.deploy.outputs.deployment-id }}`,
    );
  }
  const token = getInput(Inputs.GitHubToken).trim() || undefined;
  if (idText && !token)
    throw new ConfigurationError(Inputs.GitHubToken, 'is required with deployment-id', `${Inputs.GitHubToken}: \${{ github.token }}`);
  return { steps, intervalMs, router, metrics, gate, deploymentId: idText ? Number(idText) : undefined, token };
}
