import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGES } from '../support/programs.ts';
import { repoRoot } from '../support/runner.ts';

const read = (path: string) => readFile(join(repoRoot, path), 'utf8');

/** The command lines of the README's first shell block, comments dropped. */
async function topCommands(): Promise<string[]> {
  const readme = await read('README.md');
  const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

describe('the README’s two commands', () => {
  it('run the demo, then the whole suite, each installing what it needs first', async () => {
    expect(await topCommands()).toEqual([
      'scripts/install-packages demo && npm ci && npm run demo',
      'scripts/install-packages test && npm ci && npm test',
    ]);
  });

  it('the second is exactly what CI runs', async () => {
    const [, suite] = await topCommands();
    const ci = (await read('.ci/run')).split('\n').filter((line) => !line.trim().startsWith('#'));
    expect(ci.some((line) => line.startsWith(`${suite!} `) || line === suite)).toBe(true);
  });

  it('install every package the tests and the demo name when a program is missing', async () => {
    const script = await read('scripts/install-packages');
    const list = (which: string) => new RegExp(`^\\s*${which}\\) packages=\\(([^)]*)\\)`, 'm').exec(script)![1]!.split(/\s+/).sort();
    expect(list('test')).toEqual(expect.arrayContaining([...new Set(Object.values(PACKAGES))]));
    expect(list('demo')).toEqual(['nginx', 'prometheus']);
  });

  it('name npm scripts that exist', async () => {
    const scripts = Object.keys((JSON.parse(await read('package.json')) as { scripts: Record<string, string> }).scripts);
    const readme = await read('README.md');
    for (const [, name] of readme.matchAll(/npm run ([a-z:-]+)/g)) expect(scripts).toContain(name);
  });
});

describe('the committed bundles', () => {
  const named = async (bundle: string) => {
    const text = await read(`dist/${bundle}/licenses.txt`);
    return new Map(text.split('\n\n').map((part) => [part.split('\n')[0]!, part] as const));
  };

  it('carry the license of every package in them, concatenated modules too', async () => {
    const canary = await named('canary/main');
    for (const name of ['zod', 'yaml', '@lezer/lr', 'shell-quote', 'undici', '@octokit/rest', 'proper-lockfile']) {
      expect(canary.has(name), name).toBe(true);
    }
    expect(canary.get('@prometheus-io/lezer-promql')).toMatch(/^@prometheus-io\/lezer-promql\nApache-2.0\n[\s\S]*Apache License/);
    const buildPush = await named('build-push/main');
    for (const name of ['tar-stream', '@balena/dockerignore', 'zod', 'undici']) expect(buildPush.has(name), name).toBe(true);
  });
});
