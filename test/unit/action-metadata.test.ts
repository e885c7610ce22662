import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Inputs, Outputs } from '../../src/actions/canary/constants.ts';
import { repoRoot } from '../support/runner.ts';

// The names are defined once in constants.ts; action.yml and the README must agree with them.
describe('actions/canary/action.yml', () => {
  it('declares exactly the inputs and outputs the code reads and writes, on node24', async () => {
    const action = parse(await readFile(join(repoRoot, 'actions/canary/action.yml'), 'utf8'));
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort());
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort());
    expect(action.runs).toMatchObject({
      using: 'node24',
      main: '../../dist/canary/main/index.js',
      post: '../../dist/canary/post/index.js',
    });
  });

  it('is documented in the README, input by input', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## actions/canary'), readme.indexOf('## actions/build-push'));
    for (const name of [...Object.values(Inputs), ...Object.values(Outputs)]) expect(section).toContain(`\`${name}\``);
  });
});
