/** The names in actions/deploy/action.yml, defined once. */
export const Inputs = {
  Environment: 'environment',
  Artifact: 'artifact',
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
  PreviousArtifact: 'previous-artifact',
  Slot: 'slot',
  EnvironmentUrl: 'environment-url',
} as const;
