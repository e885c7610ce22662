import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Inputs, Outputs } from '../../src/actions/build-push/constants.ts';
import { repoRoot } from '../support/runner.ts';

// The names are defined once in constants.ts; action.yml and the README must agree with them.
describe('actions/build-push/action.yml', () => {
  it('is documented in the README, input by input and output by output', async () => {
    const action = parse(await readFile(join(repoRoot, 'actions/build-push/action.yml'), 'utf8'));
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const start = readme.indexOf('## actions/build-push');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const names = [...Object.keys(action.inputs), ...Object.keys(action.outputs)];
    expect(names.sort()).toEqual([...Object.values(Inputs), ...Object.values(Outputs)].sort());
    for (const name of names) expect(section).toMatch(new RegExp(`\\| \`${name}\` +\\|`));
  });
});
