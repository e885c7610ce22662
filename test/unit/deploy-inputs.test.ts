import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Inputs as DeployInputs, Outputs as DeployOutputs } from '../../src/actions/deploy/constants.ts';
import { readDeployInputs } from '../../src/actions/deploy/inputs.ts';
import { Inputs as RevertInputs, Outputs as RevertOutputs } from '../../src/actions/revert/constants.ts';
import { readRevertInputs } from '../../src/actions/revert/inputs.ts';
import { substitute } from '../../src/deploy/placement.ts';
import { repoRoot } from '../support/runner.ts';

const from = (values: Record<string, string>) => (name: string) => values[name] ?? '';
const base = {
  environment: 'staging',
  artifact: `ghcr.io/acme/app@sha256:4f1c2a${'0'.repeat(58)}`,
  'github-token': 't',
  target: '{type: command, run: [deploy, "{artifact}"]}',
};

describe('deploy inputs', () => {
  it('builds one validated object with defaults', () => {
    const inputs = readDeployInputs(
      from({ ...base, health: 'http://127.0.0.1:8080/healthz', smoke: '[{url: "http://x/", max-latency: 200ms}]' }),
    );
    expect(inputs).toMatchObject({
      strategy: 'recreate',
      onFailure: 'revert',
      transient: false,
      production: undefined,
      version: 'sha256:4f1c2a',
      target: { kind: 'command', routing: { type: 'command', run: ['deploy', '{artifact}'] } },
    });
    expect(readDeployInputs(from({ ...base, artifact: `ghcr.io/acme/app:v3@sha256:${'0'.repeat(64)}` })).version).toBe('v3');
    expect(readDeployInputs(from({ ...base, version: 'v3.1' })).version).toBe('v3.1');
    expect(() => readDeployInputs(from({ ...base, version: 'v3\n::error::x' }))).toThrow(
      'Input "version": "v3\\n::error::x" is not a version',
    );
    expect(inputs.health).toEqual({ url: 'http://127.0.0.1:8080/healthz', status: 200, timeout: 120_000, interval: 2000 });
    expect(inputs.smoke).toEqual([{ url: 'http://x/', status: 200, 'max-latency': 200, timeout: 10_000 }]);
  });

  it('refuses a shell line as run, and nginx names that could break the config', () => {
    expect(() => readDeployInputs(from({ ...base, target: '{type: command, run: "deploy {artifact} && restart"}' }))).toThrow(
      /Input "target": run: .*shell syntax/,
    );
    const nginx = (upstream: string) =>
      `{type: nginx, config-file: /etc/nginx/app.conf, upstream: "${upstream}", blue: "10.0.0.5:80", green: "10.0.0.6:80", run: [x]}`;
    expect(() => readDeployInputs(from({ ...base, strategy: 'blue-green', target: nginx('app; }') }))).toThrow(
      /Input "target": upstream: /,
    );
    expect(() =>
      readDeployInputs(from({ ...base, strategy: 'blue-green', target: nginx('app').replace('10.0.0.6:80', '10.0.0.5:80') })),
    ).toThrow(/10\.0\.0\.5:80 is listed twice/);
    // Pools: a list of servers per slot; the fixed canary form is not a deploy target.
    const pools = readDeployInputs(
      from({ ...base, strategy: 'canary', target: nginx('app').replace('"10.0.0.5:80"', '[10.0.0.5:80, 10.0.0.7:80]') }),
    );
    expect(pools.target).toMatchObject({ kind: 'slots', routing: { blue: ['10.0.0.5:80', '10.0.0.7:80'], green: ['10.0.0.6:80'] } });
    expect(() =>
      readDeployInputs(
        from({
          ...base,
          strategy: 'canary',
          target: '{type: nginx, config-file: /a, upstream: app, stable: "10.0.0.5:80", canary: "10.0.0.6:80", run: [x]}',
        }),
      ),
    ).toThrow(/Input "strategy": canary needs a target with blue and green slots/);
  });
});

describe('revert inputs', () => {
  it('needs a target or a router, and takes the reason from a canary report', () => {
    expect(() => readRevertInputs(from({ environment: 'production', 'github-token': 't' }), '4242')).toThrow(
      /Input "target": is required unless router is given/,
    );
    const report = JSON.stringify({ result: 'reverted', reason: 'p95 0.4s above 0.25s', steps: [] });
    const inputs = readRevertInputs(
      from({ environment: 'production', 'github-token': 't', target: base.target, 'canary-report': report }),
      '4242',
    );
    expect(inputs).toMatchObject({
      to: 'last-success',
      reason: 'canary reverted: p95 0.4s above 0.25s',
      openIssue: false,
      request: '4242',
    });
    expect(() =>
      readRevertInputs(from({ environment: 'production', 'github-token': 't', target: base.target, 'request-id': 'a b' }), '1'),
    ).toThrow(/Input "request-id"/);
  });
});

describe('substitution', () => {
  it('fills placeholders, percent-encoding the artifact in URLs only', () => {
    const placement = { artifact: 'app@sha256:ab', version: 'v1', environment: 'prod', slot: 'blue' as const, address: '10.0.0.5:80' };
    expect(substitute('http://{address}/v?a={artifact}&s={slot}&v={version}', placement, true)).toBe(
      'http://10.0.0.5:80/v?a=app%40sha256%3Aab&s=blue&v=v1',
    );
    expect(substitute('{artifact}', placement)).toBe('app@sha256:ab');
  });
});

describe('action.yml agrees with the constants', () => {
  it.each([
    ['deploy', DeployInputs, DeployOutputs],
    ['revert', RevertInputs, RevertOutputs],
  ])('%s', async (action, inputs, outputs) => {
    const metadata = parse(await readFile(join(repoRoot, 'actions', action, 'action.yml'), 'utf8')) as { inputs: object; outputs: object };
    expect(Object.keys(metadata.inputs).sort()).toEqual(Object.values(inputs).sort());
    expect(Object.keys(metadata.outputs).sort()).toEqual(Object.values(outputs).sort());
  });
});

describe('README', () => {
  it.each([
    ['deploy', '## actions/deploy', '## actions/revert', DeployInputs, DeployOutputs],
    ['revert', '## actions/revert', '## Developing Shipgate', RevertInputs, RevertOutputs],
  ])('documents every input and output of %s', async (_action, start, end, inputs, outputs) => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf(start), readme.indexOf(end));
    for (const name of [...Object.values(inputs), ...Object.values(outputs)]) expect(section).toMatch(new RegExp(`\\| \`${name}\` +\\|`));
  });
});
