/** The names in actions/revert/action.yml, defined once. */
export const Inputs = {
  Environment: 'environment',
  GitHubToken: 'github-token',
  Reason: 'reason',
  To: 'to',
  Target: 'target',
  Router: 'router',
  Health: 'health',
  CanaryReport: 'canary-report',
  RequestId: 'request-id',
  OpenIssue: 'open-issue',
  JobSummary: 'job-summary',
} as const;

export const Outputs = {
  Result: 'result',
  Artifact: 'artifact',
  Version: 'version',
  From: 'from',
  DeploymentId: 'deployment-id',
  Issue: 'issue',
} as const;

export const State = {
  /** The target or router mapping, so the post step can put traffic on the known-good side. */
  Routing: 'routing',
  /** The revert deployment this run created, with where it lives (never the token). */
  Deployment: 'deployment',
  /** Set once main finished, either way: the post step then has nothing to do. */
  Settled: 'settled',
} as const;
