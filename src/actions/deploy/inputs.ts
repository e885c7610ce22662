import { ConfigurationError } from '../../core/errors.ts';
import type { HealthConfig, SmokeCheck } from '../../deploy/checks.ts';
import {
  artifactValue,
  booleanValue,
  environmentInput,
  healthInput,
  oneOf,
  required,
  routingInput,
  smokeInput,
  tokenInput,
  versionValue,
  type GetInput,
} from '../../deploy/inputs.ts';
import { STRATEGIES, type Strategy } from '../../deploy/strategies.ts';
import { isSlotRouting, routingExample, type CommandRouting, type SlotRouting } from '../../slots/config.ts';
import { versionOf } from '../../slots/release.ts';
import { Inputs } from './constants.ts';

export type OnFailure = 'revert' | 'fail';

/** recreate runs a command target; blue-green and canary put the artifact on the idle one of two slots. */
export type DeployTarget =
  { kind: 'command'; routing: CommandRouting & { run: string[] } } | { kind: 'slots'; routing: SlotRouting & { run: string[] } };

export interface DeployInputs {
  environment: string;
  artifact: string;
  version: string;
  environmentUrl: string | undefined;
  token: string;
  production: boolean | undefined;
  transient: boolean;
  strategy: Strategy;
  target: DeployTarget;
  health: HealthConfig | undefined;
  smoke: SmokeCheck[];
  onFailure: OnFailure;
  jobSummary: boolean;
}

/** Reads and validates every input of the deploy action; nothing else happens until this returns. */
export function readDeployInputs(getInput: GetInput): DeployInputs {
  const environment = environmentInput(getInput, Inputs.Environment);
  const artifact = artifactValue(
    required(getInput, Inputs.Artifact, `${Inputs.Artifact}: \${{ needs.build.outputs.image }}`),
    Inputs.Artifact,
  );
  const givenVersion = getInput(Inputs.Version).trim();
  const version = givenVersion ? versionValue(givenVersion, Inputs.Version) : versionOf(artifact);
  const token = tokenInput(getInput, Inputs.GitHubToken);
  const strategy = oneOf(getInput, Inputs.Strategy, STRATEGIES, 'recreate');
  const routing = routingInput(getInput, Inputs.Target);
  if (!routing) throw new ConfigurationError(Inputs.Target, 'is required', routingExample(Inputs.Target));
  if (!routing.run) {
    throw new ConfigurationError(
      Inputs.Target,
      'run is required: the command that puts an artifact live or on a slot',
      routingExample(Inputs.Target),
    );
  }
  const run = routing.run;
  let target: DeployTarget;
  if (strategy === 'recreate') {
    if (routing.type !== 'command')
      throw new ConfigurationError(
        Inputs.Strategy,
        `recreate needs a target of type command, not ${routing.type}`,
        `${Inputs.Strategy}: canary`,
      );
    target = { kind: 'command', routing: { ...routing, run } };
  } else {
    if (!isSlotRouting(routing)) {
      throw new ConfigurationError(
        Inputs.Strategy,
        `${strategy} needs a target with blue and green slots (type nginx or haproxy)${routing.type === 'command' ? ', not a command' : ', not stable and canary'}`,
        routing.type === 'command' ? `${Inputs.Strategy}: recreate` : routingExample(Inputs.Target),
      );
    }
    target = { kind: 'slots', routing: { ...routing, run } };
  }
  const environmentUrl = getInput(Inputs.EnvironmentUrl).trim() || undefined;
  if (environmentUrl !== undefined) {
    try {
      if (!/^https?:$/.test(new URL(environmentUrl.replaceAll('{artifact}', 'a').replaceAll('{version}', 'v')).protocol))
        throw new Error('not http');
    } catch {
      throw new ConfigurationError(
        Inputs.EnvironmentUrl,
        `"${environmentUrl}" is not an http(s) URL`,
        `${Inputs.EnvironmentUrl}: https://staging.example.com`,
      );
    }
  }
  return {
    environment,
    artifact,
    version,
    environmentUrl,
    token,
    production: booleanValue(getInput, Inputs.Production, undefined),
    transient: booleanValue(getInput, Inputs.Transient, false)!,
    strategy,
    target,
    health: healthInput(getInput, Inputs.Health),
    smoke: smokeInput(getInput, Inputs.Smoke),
    onFailure: oneOf(getInput, Inputs.OnFailure, ['revert', 'fail'] as const, 'revert'),
    jobSummary: booleanValue(getInput, Inputs.JobSummary, true)!,
  };
}
