import { ConfigurationError } from '../../core/errors.ts';
import type { HealthConfig } from '../../deploy/checks.ts';
import { artifactValue, booleanValue, environmentInput, healthInput, targetInput, tokenInput, type GetInput } from '../../deploy/inputs.ts';
import { TARGET_EXAMPLE, type TargetConfig } from '../../deploy/target.ts';
import { checkSchema, parseYamlInput } from '../../core/yaml-input.ts';
import { ROUTER_EXAMPLE, routerSchema, type RouterConfig } from '../../routers/index.ts';
import { CANARY_REPORT_EXAMPLE, canaryReportSchema, type CanaryReport } from '../../revert/report.ts';
import { Inputs } from './constants.ts';

export interface RevertInputs {
  environment: string;
  token: string;
  reason: string;
  /** `last-success` or an artifact. */
  to: string;
  target: TargetConfig | undefined;
  router: RouterConfig | undefined;
  health: HealthConfig | undefined;
  canaryReport: CanaryReport | undefined;
  openIssue: boolean;
  jobSummary: boolean;
}

/** Reads and validates every input of the revert action; nothing else happens until this returns. */
export function readRevertInputs(getInput: GetInput): RevertInputs {
  const environment = environmentInput(getInput, Inputs.Environment);
  const token = tokenInput(getInput, Inputs.GitHubToken);
  const toText = getInput(Inputs.To).trim() || 'last-success';
  const to = toText === 'last-success' ? toText : artifactValue(toText, Inputs.To);
  const target = targetInput(getInput, Inputs.Target);
  const routerText = getInput(Inputs.Router).trim();
  const router = routerText ? parseYamlInput(Inputs.Router, routerText, routerSchema, ROUTER_EXAMPLE) : undefined;
  if (!target && !router) {
    throw new ConfigurationError(
      Inputs.Target,
      'is required unless router is given: say how to put a version back (the same target as deploy) or which canary router to send all traffic to stable',
      TARGET_EXAMPLE,
    );
  }
  const reportText = getInput(Inputs.CanaryReport).trim();
  let canaryReport: CanaryReport | undefined;
  if (reportText) {
    let document: unknown;
    try {
      document = JSON.parse(reportText);
    } catch {
      throw new ConfigurationError(
        Inputs.CanaryReport,
        "is not JSON (pass the canary step's report output as it is)",
        CANARY_REPORT_EXAMPLE,
      );
    }
    canaryReport = checkSchema(Inputs.CanaryReport, document, canaryReportSchema, CANARY_REPORT_EXAMPLE);
  }
  const reason =
    getInput(Inputs.Reason).trim() || (canaryReport ? `canary ${canaryReport.result}: ${canaryReport.reason}` : 'no reason given');
  return {
    environment,
    token,
    reason,
    to,
    target,
    router,
    health: healthInput(getInput, Inputs.Health),
    canaryReport,
    openIssue: booleanValue(getInput, Inputs.OpenIssue, false)!,
    jobSummary: booleanValue(getInput, Inputs.JobSummary, true)!,
  };
}
