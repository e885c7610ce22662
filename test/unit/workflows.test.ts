import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runner.ts';
import { actionlint, shipgateFindings, wrapSnippet, yamlBlocks } from '../support/workflow-lint.ts';

async function workflowFiles(dir: string): Promise<string[]> {
  return (await readdir(join(repoRoot, dir))).filter((f) => /\.ya?ml$/.test(f)).map((f) => `${dir}/${f}`);
}

describe('the workflows: ours (.github/workflows) and the copy-ready examples', async () => {
  const files = [...(await workflowFiles('.github/workflows')), ...(await workflowFiles('workflows-examples'))];

  it('are there: ci, release and every example', () => {
    expect(files).toEqual(
      expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/release.yml', 'workflows-examples/pipeline.yml']),
    );
  });

  it.each(files)('%s passes actionlint and the paste-safety checks', async (file) => {
    const text = await readFile(join(repoRoot, file), 'utf8');
    const findings = [...(await actionlint(text, file)), ...(await shipgateFindings(parse(text), file))];
    expect(findings).toEqual([]);
  });

  it('share one concurrency group per environment across deploy, canary and revert', async () => {
    const groups = new Set<string>();
    for (const file of await workflowFiles('workflows-examples')) {
      const text = await readFile(join(repoRoot, file), 'utf8');
      for (const [, group] of text.matchAll(/group: (\S+)/g)) groups.add(group!);
    }
    expect([...groups].every((g) => g.startsWith('shipgate-'))).toBe(true);
  });
});

describe('README.md’s YAML snippets', async () => {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const snippets = yamlBlocks(readme);

  it('are found, and most are workflows or steps', () => {
    expect(
      snippets.filter((s) => {
        try {
          return wrapSnippet(s.text);
        } catch {
          return true;
        }
      }).length,
    ).toBeGreaterThanOrEqual(4);
  });

  it.each(snippets.map((s) => [`line ${s.line}`, s.text] as const))(
    'the snippet at %s passes actionlint and the paste-safety checks',
    async (where, snippet) => {
      const workflow = wrapSnippet(snippet); // throws on YAML that does not parse
      if (!workflow) return; // an input's value (a gate, a router): parsing it was the check
      const text = stringify(workflow);
      const findings = [...(await actionlint(text, `README.md ${where}`)), ...(await shipgateFindings(workflow, `README.md ${where}`))];
      expect(findings, text).toEqual([]);
    },
  );
});

describe('the checks themselves', () => {
  it('catch an output inside run:, a missing needs:, an old checkout and a dropped contents: read', async () => {
    const snippet = `
permissions:
  packages: write
steps:
  - uses: actions/checkout@v4
  - id: canary
    run: echo hi
  - run: echo "\${{ steps.canary.outputs.reason }} \${{ needs.build.outputs.image }}"
`;
    const workflow = wrapSnippet(snippet)!;
    const lint = await actionlint(stringify(workflow), 'bad');
    expect(lint.join('\n')).toMatch(/property "build" is not defined/);
    const ours = await shipgateFindings(workflow, 'bad');
    expect(ours.join('\n')).toMatch(/leave out contents: read/);
    expect(ours.join('\n')).toMatch(/expression inside run:/);
    expect(ours.join('\n')).toMatch(/actions\/checkout@v4, not actions\/checkout@v5/);
  });

  it('catch an input our action does not have, and a concurrency group apart from shipgate-<environment>', async () => {
    const workflow = wrapSnippet(`
jobs:
  canary:
    runs-on: ubuntu-latest
    concurrency: canary-production
    steps:
      - uses: OWNER/shipgate/actions/canary@v1
        with: { steps: '100%', router: x, metrics: x, gate: x, stepz: x }
`)!;
    const ours = (await shipgateFindings(workflow, 'bad')).join('\n');
    expect(ours).toMatch(/has no input stepz/);
    expect(ours).toMatch(/concurrency group canary-production/);
  });

  it('fail on a broken expression, so a passing run means something', async () => {
    expect(
      await actionlint(
        'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.nope.what( }}\n',
        'bad',
      ),
    ).not.toEqual([]);
  });
});
