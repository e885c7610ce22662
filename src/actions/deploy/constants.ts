/** The names in actions/deploy/action.yml, defined once. */
export const Inputs = {
  Environment: 'environment',
  Artifact: 'artifact',
  Version: 'version',
  EnvironmentUrl: 'environment-url',
  GitHubToken: 'github-token',
  Production: 'production',
  Transient: 'transient',
  Strategy: 'strategy',
  Target: 'target',
  Health: 'health',
  Smoke: 'smoke',
  OnFailure: 'on-failure',
  JobSummary: 'job-summary',
} as const;

export const Outputs = {
  Result: 'result',
  DeploymentId: 'deployment-id',
  Version: 'version',
  PreviousArtifact: 'previous-artifact',
  Slot: 'slot',
  EnvironmentUrl: 'environment-url',
} as const;

export const State = {
  /** The deployment this run created and where it lives (never the token), once it exists. */
  Deployment: 'deployment',
  /** Set once main has recorded success or failure on it: the post step then has nothing to do. */
  Settled: 'settled',
} as const;
