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
  OpenIssue: 'open-issue',
  JobSummary: 'job-summary',
} as const;

export const Outputs = {
  Result: 'result',
  Artifact: 'artifact',
  From: 'from',
  DeploymentId: 'deployment-id',
  Issue: 'issue',
} as const;
