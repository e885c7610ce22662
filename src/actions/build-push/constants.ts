/** The names in actions/build-push/action.yml, defined once. */
export const Inputs = {
  Image: 'image',
  Builder: 'builder',
  Base: 'base',
  Platform: 'platform',
  Context: 'context',
  Entrypoint: 'entrypoint',
  Cmd: 'cmd',
  Env: 'env',
  Workdir: 'workdir',
  User: 'user',
  Expose: 'expose',
  Labels: 'labels',
  File: 'file',
  BuildArgs: 'build-args',
  Platforms: 'platforms',
  Tags: 'tags',
  Flavor: 'flavor',
  Insecure: 'insecure',
  Username: 'username',
  Password: 'password',
  Source: 'source',
} as const;

export const Outputs = {
  Digest: 'digest',
  Image: 'image',
  Tags: 'tags',
  Version: 'version',
  Metadata: 'metadata',
} as const;

export const Builders = ['auto', 'docker', 'oci'] as const;
export type Builder = (typeof Builders)[number];
