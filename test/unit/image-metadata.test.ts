import { describe, expect, it } from 'vitest';
import { imageConfig } from '../../src/image/config.ts';
import { allTags, DEFAULT_SWITCHES, ociLabels, sanitizeTag, semverTags } from '../../src/image/metadata.ts';

const SHA = 'abcdef0123456789abcdef0123456789abcdef01';

describe('tags derived from the GitHub context', () => {
  it('gives sha, branch and latest on the default branch', () => {
    expect(allTags(['v1'], { sha: SHA, ref: 'refs/heads/main', defaultBranch: 'main' }, DEFAULT_SWITCHES)).toEqual([
      'v1',
      'sha-abcdef0',
      'main',
      'latest',
    ]);
    expect(allTags([], { sha: SHA, ref: 'refs/heads/feature/login', defaultBranch: 'main' }, DEFAULT_SWITCHES)).toEqual([
      'sha-abcdef0',
      'feature-login',
    ]);
  });

  it('gives semver tags from a release tag, and only the full version for a pre-release', () => {
    expect(semverTags('refs/tags/v1.2.3')).toEqual(['1.2.3', '1.2', '1']);
    expect(semverTags('refs/tags/v2.0.0-rc.1')).toEqual(['2.0.0-rc.1']);
    expect(semverTags('refs/tags/release')).toEqual([]);
  });

  it('honours each switch', () => {
    const switches = { sha: false, 'sha-long': true, branch: false, semver: true, latest: false };
    expect(allTags([], { sha: SHA, ref: 'refs/heads/main', defaultBranch: 'main' }, switches)).toEqual([`sha-${SHA}`]);
  });

  it('sanitizes branch names into tags', () => {
    expect(sanitizeTag('-feat/ä')).toBe('feat--');
  });

  it('labels the image with the OCI source keys', () => {
    expect(ociLabels({ sha: SHA, repositoryUrl: 'https://github.com/acme/api', repositoryName: 'api' }, new Date(0), '1.2.3')).toEqual({
      'org.opencontainers.image.created': '1970-01-01T00:00:00Z',
      'org.opencontainers.image.source': 'https://github.com/acme/api',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.title': 'api',
    });
  });
});

describe('imageConfig', () => {
  const base = {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/bin', 'A=1'], Entrypoint: ['/bin/sh'], Cmd: ['-c', 'true'], Labels: { z: '1' } },
    rootfs: { type: 'layers' as const, diff_ids: ['sha256:base'] },
  };
  const settings = {
    platform: { os: 'linux', architecture: 'amd64' },
    created: new Date(0),
    env: [['A', '2'] as [string, string]],
    workdir: '/app',
    expose: ['8080/tcp'],
    labels: { a: '1' },
  };

  it('overrides the base, resets cmd with a new entrypoint, and appends our diff_id', () => {
    const config = imageConfig(base, { ...settings, entrypoint: ['node'] }, 'sha256:ours');
    expect(config.config).toEqual({
      ExposedPorts: { '8080/tcp': {} },
      Env: ['PATH=/usr/bin', 'A=2'],
      Entrypoint: ['node'],
      WorkingDir: '/app',
      Labels: { a: '1', z: '1' },
    });
    expect(config.rootfs.diff_ids).toEqual(['sha256:base', 'sha256:ours']);
  });

  it('keeps the base cmd when only cmd is unset and entrypoint is inherited', () => {
    expect(imageConfig(base, settings, 'sha256:ours').config.Cmd).toEqual(['-c', 'true']);
  });
});
