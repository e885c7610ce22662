import { ConfigurationError } from '../../core/errors.ts';
import { checkSchema } from '../../core/yaml-input.ts';
import type { HealthConfig } from '../../deploy/checks.ts';
import {
  artifactValue,
  booleanValue,
  environmentInput,
  healthInput,
  routingInput,
  tokenInput,
  type GetInput,
} from '../../deploy/inputs.ts';
import { REASON, REQUEST } from '../../github/payload.ts';
import { CANARY_REPORT_EXAMPLE, canaryReportSchema, type CanaryReport } from '../../revert/report.ts';
import { routingExample, type Routing } from '../../slots/config.ts';
import { Inputs } from './constants.ts';

export interface RevertInputs {
  environment: string;
  token: string;
  reason: string;
  /** `last-success` or an artifact. */
  to: string;
  target: Routing | undefined;
  router: Routing | undefined;
  health: HealthConfig | undefined;
  canaryReport: CanaryReport | undefined;
  /** What makes two reverts the same request: given, or this run's id. */
  request: string;
  openIssue: boolean;
  jobSummary: boolean;
}

/** Reads and validates every input of the revert action; nothing else happens until this returns. */
export function readRevertInputs(getInput: GetInput, runId: string): RevertInputs {
  const environment = environmentInput(getInput, Inputs.Environment);
  const token = tokenInput(getInput, Inputs.GitHubToken);
  const toText = getInput(Inputs.To).trim() || 'last-success';
  const to = toText === 'last-success' ? toText : artifactValue(toText, Inputs.To);
  const target = routingInput(getInput, Inputs.Target);
  const router = routingInput(getInput, Inputs.Router);
  if (!target && !router) {
    throw new ConfigurationError(
      Inputs.Target,
      'is required unless router is given: say how to put a version back (the same target as deploy) or which router to send all traffic to the known-good side',
      routingExample(Inputs.Target),
    );
  }
  if (target?.type === 'command' && !target.run) {
    throw new ConfigurationError(
      Inputs.Target,
      'run is required for a command target',
      'target: "{type: command, run: [deploy, \'{artifact}\']}"',
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
  const given = getInput(Inputs.Reason).trim();
  const reason = (given || (canaryReport ? `canary ${canaryReport.result}: ${canaryReport.reason}` : 'no reason given'))
    .replace(/\s+/g, ' ')
    .slice(0, 500);
  if (!REASON.test(reason))
    throw new ConfigurationError(
      Inputs.Reason,
      'must be text of at most 500 characters',
      `${Inputs.Reason}: error rate 4% after the rollout`,
    );
  const request = getInput(Inputs.RequestId).trim() || runId;
  if (!REQUEST.test(request)) {
    throw new ConfigurationError(
      Inputs.RequestId,
      `"${request}" is not a request id (letters, digits and _ . : -, at most 100)`,
      `${Inputs.RequestId}: alert-\${{ github.event.client_payload.fingerprint }}`,
    );
  }
  return {
    environment,
    token,
    reason,
    to,
    target,
    router,
    health: healthInput(getInput, Inputs.Health),
    canaryReport,
    request,
    openIssue: booleanValue(getInput, Inputs.OpenIssue, false)!,
    jobSummary: booleanValue(getInput, Inputs.JobSummary, true)!,
  };
}
