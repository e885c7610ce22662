import { ConfigurationError } from '../../core/errors.ts';
import type { HealthConfig, SmokeCheck } from '../../deploy/checks.ts';
import {
  artifactValue,
  booleanValue,
  environmentInput,
  healthInput,
  oneOf,
  required,
  smokeInput,
  targetInput,
  tokenInput,
  type GetInput,
} from '../../deploy/inputs.ts';
import { STRATEGIES, type Strategy } from '../../deploy/strategies.ts';
import { TARGET_EXAMPLE, type TargetConfig } from '../../deploy/target.ts';
import { Inputs } from './constants.ts';

export type OnFailure = 'revert' | 'fail';

export interface DeployInputs {
  environment: string;
  artifact: string;
  environmentUrl: string | undefined;
  token: string;
  production: boolean | undefined;
  transient: boolean;
  strategy: Strategy;
  target: TargetConfig;
  health: HealthConfig | undefined;
  smoke: SmokeCheck[];
  onFailure: OnFailure;
  jobSummary: boolean;
}

/** Reads and validates every input of the deploy action; nothing else happens until this returns. */
export function readDeployInputs(getInput: GetInput): DeployInputs {
  const environment = environmentInput(getInput, Inputs.Environment);
  const artifact = artifactValue(
    required(getInput, Inputs.Artifact, `${Inputs.Artifact}: \${{ needs.build.outputs.image }}@\${{ needs.build.outputs.digest }}`),
    Inputs.Artifact,
  );
  const token = tokenInput(getInput, Inputs.GitHubToken);
  const strategy = oneOf(getInput, Inputs.Strategy, STRATEGIES, 'recreate');
  const target = targetInput(getInput, Inputs.Target);
  if (!target) throw new ConfigurationError(Inputs.Target, 'is required', TARGET_EXAMPLE);
  const wanted = strategy === 'blue-green' ? 'nginx' : 'command';
  if (target.type !== wanted) {
    throw new ConfigurationError(
      Inputs.Strategy,
      `${strategy} needs a target of type ${wanted}, not ${target.type}`,
      `${Inputs.Strategy}: ${target.type === 'nginx' ? 'blue-green' : 'recreate'}`,
    );
  }
  const environmentUrl = getInput(Inputs.EnvironmentUrl).trim() || undefined;
  if (environmentUrl !== undefined) {
    try {
      if (!/^https?:$/.test(new URL(environmentUrl.replaceAll('{artifact}', 'a')).protocol)) throw new Error('not http');
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
