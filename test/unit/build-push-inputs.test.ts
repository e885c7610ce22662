import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Inputs, Outputs } from '../../src/actions/build-push/constants.ts';
import { readBuildPushInputs } from '../../src/actions/build-push/inputs.ts';
import { repoRoot } from '../support/runner.ts';

const read = (inputs: Record<string, string>) => readBuildPushInputs((name) => inputs[name] ?? '', repoRoot);

describe('build-push inputs', () => {
  it('reads a full set', () => {
    const inputs = read({
      image: 'ghcr.io/acme/api',
      context: 'src',
      entrypoint: 'node server.js',
      cmd: '["--port", "8080"]',
      env: 'A=1\nB=x=y',
      expose: '8080, 53/udp',
      tags: 'v1\nstable, edge',
      flavor: 'latest=false',
      username: 'u',
      password: 'p',
    });
    expect(inputs.image).toEqual({ registry: 'ghcr.io', repository: 'acme/api' });
    expect(inputs.context).toBe(join(repoRoot, 'src'));
    expect(inputs.entrypoint).toEqual(['node', 'server.js']);
    expect(inputs.cmd).toEqual(['--port', '8080']);
    expect(inputs.env).toEqual([
      ['A', '1'],
      ['B', 'x=y'],
    ]);
    expect(inputs.expose).toEqual(['8080/tcp', '53/udp']);
    expect(inputs.tags).toEqual(['v1', 'stable', 'edge']);
    expect(inputs.flavor.latest).toBe(false);
    expect(inputs.credentials).toEqual({ username: 'u', password: 'p' });
    expect(inputs.base).toBeUndefined();
  });

  it.each([
    [{ image: '' }, /^Input "image": is required/],
    [{ image: 'ghcr.io/acme/api', password: 'p' }, /^Input "username": is needed with the other/],
    [{ image: 'ghcr.io/acme/api', entrypoint: 'node server.js | tee log' }, /^Input "entrypoint": .*shell syntax/],
    [{ image: 'ghcr.io/acme/api', workdir: 'app' }, /^Input "workdir": "app" is not an absolute path/],
    [{ image: 'ghcr.io/acme/api', expose: '70000' }, /^Input "expose": "70000" is not a port/],
    [{ image: 'ghcr.io/acme/api', platform: 'amd64' }, /^Input "platform": "amd64" is not os\/architecture/],
    [{ image: 'ghcr.io/acme/api', insecure: 'yes' }, /^Input "insecure": "yes" is not true or false/],
  ])('refuses %o', (inputs, message) => {
    expect(() => read(inputs)).toThrow(message);
  });

  it('agrees with action.yml', () => {
    const action = parse(readFileSync(join(repoRoot, 'actions/build-push/action.yml'), 'utf8')) as { inputs: object; outputs: object };
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort());
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort());
  });
});
