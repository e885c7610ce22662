/** The names in actions/canary/action.yml, defined once. */
export const Inputs = {
  Steps: 'steps',
  Interval: 'interval',
  Router: 'router',
  Metrics: 'metrics',
  Gate: 'gate',
  Inconclusive: 'inconclusive',
  MaxExtension: 'max-extension',
  DeploymentId: 'deployment-id',
  GitHubToken: 'github-token',
  FailOnRevert: 'fail-on-revert',
  JobSummary: 'job-summary',
} as const;

export const Outputs = {
  Result: 'result',
  Reason: 'reason',
  FinalWeight: 'final-weight',
  Report: 'report',
} as const;

export const State = {
  /** The validated router config, so the post step can put traffic back on stable. */
  Router: 'router',
  /** In slot mode, the slot that is stable for this run (the known-good one). */
  Stable: 'stable',
  /** The last canary weight that took effect. */
  Weight: 'weight',
  /** Set once main has left traffic where it decided: the post step then has nothing to do. */
  Settled: 'settled',
  /** The deployment the canary reports on, with where it lives (never the token). */
  Deployment: 'deployment',
} as const;
