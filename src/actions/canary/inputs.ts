import { z } from 'zod';
import type { InconclusivePolicy } from '../../canary/ramp.ts';
import { parseSteps, type Step } from '../../canary/schedule.ts';
import { parseDuration } from '../../core/durations.ts';
import { ConfigurationError, errorMessage } from '../../core/errors.ts';
import { parseYamlInput } from '../../core/yaml-input.ts';
import { routingInput } from '../../deploy/inputs.ts';
import { innerSelector } from '../../gates/comparison.ts';
import { checkPlaceholders } from '../../gates/placeholders.ts';
import { GATE_EXAMPLE, gateSchema, type GateRule, queriesOf } from '../../gates/rules.ts';
import { METRICS_EXAMPLE, metricsSchema, type MetricsConfig } from '../../metrics/index.ts';
import { PromqlSyntaxError } from '../../metrics/promql.ts';
import { isFixedRouting, isSlotRouting, routingExample, type Routing } from '../../slots/config.ts';
import { Inputs } from './constants.ts';

export interface CanaryInputs {
  steps: Step[];
  intervalMs: number;
  router: Routing;
  metrics: MetricsConfig;
  gate: GateRule[];
  inconclusive: InconclusivePolicy;
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
    for (const [field, query] of queriesOf(rule)) {
      checkPlaceholders(query, `${rule.name}: ${field}`, Inputs.Gate, isSlotRouting(router));
      if (router.type === 'command' && /\{(canary|stable)-instances\}/.test(query)) {
        throw new ConfigurationError(
          Inputs.Gate,
          `${rule.name}: ${field}: {canary-instances} and {stable-instances} need a router that knows its servers' addresses (nginx or HAProxy)`,
          'query: sum(rate(http_requests_total{version="canary"}[1m]))',
        );
      }
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
    }
  }
  const action = (getInput(Inputs.Inconclusive).trim() || 'extend').toLowerCase();
  if (action !== 'extend' && action !== 'revert') {
    throw new ConfigurationError(Inputs.Inconclusive, `"${action}" is not extend or revert`, 'inconclusive: extend');
  }
  const extension = getInput(Inputs.MaxExtension).trim();
  const inconclusive: InconclusivePolicy = {
    action,
    ...(extension ? { maxExtensionMs: parseDuration(extension, Inputs.MaxExtension, 'max-extension: 5m') } : {}),
  };
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
  return { steps, intervalMs, router, metrics, gate, inconclusive, deploymentId: idText ? Number(idText) : undefined, token };
}
