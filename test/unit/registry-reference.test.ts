import { describe, expect, it } from 'vitest';
import { mergeScopes, parseChallenge } from '../../src/registry/auth.ts';
import { isLoopback, parseReference } from '../../src/registry/reference.ts';

describe('parseReference', () => {
  it('reads registry, repository, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference('ghcr.io/acme/api')).toEqual({ registry: 'ghcr.io', repository: 'acme/api' });
    expect(parseReference('127.0.0.1:5000/app:v1')).toEqual({ registry: '127.0.0.1:5000', repository: 'app', tag: 'v1' });
    expect(parseReference(`localhost/a/b@${digest}`)).toEqual({ registry: 'localhost', repository: 'a/b', digest });
    expect(parseReference('node:24-slim')).toEqual({ registry: 'docker.io', repository: 'library/node', tag: '24-slim' });
  });

  it('refuses what registries refuse', () => {
    expect(() => parseReference('ghcr.io/Acme/api')).toThrow(/"Acme" is not a valid repository path component/);
    expect(() => parseReference('ghcr.io/acme/api:feature/x')).toThrow();
    expect(() => parseReference('ghcr.io/acme/api:-x')).toThrow(/not a valid tag/);
    expect(() => parseReference('ghcr.io/acme/api@sha256:abc')).toThrow(/not a digest/);
    expect(() => parseReference('a b')).toThrow(/white space/);
  });

  it('speaks plain HTTP only to loopback', () => {
    expect(isLoopback('127.0.0.1:5000')).toBe(true);
    expect(isLoopback('localhost:5000')).toBe(true);
    expect(isLoopback('[::1]:5000')).toBe(true);
    expect(isLoopback('ghcr.io')).toBe(false);
    expect(isLoopback('10.0.0.1:5000')).toBe(false);
  });
});

describe('auth challenges', () => {
  it('parses a Bearer challenge whose scope holds commas', () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:acme/api:pull,push' },
    });
    expect(parseChallenge('Basic realm="registry"')).toEqual({ scheme: 'basic', params: { realm: 'registry' } });
  });

  it('merges scopes per repository', () => {
    expect(mergeScopes(['repository:a:pull', 'repository:a:push', 'repository:b:pull'])).toEqual([
      'repository:a:pull,push',
      'repository:b:pull',
    ]);
  });
});
