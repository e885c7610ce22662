import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listContext } from '../../src/image/layer.ts';
import { requirePrograms } from '../support/programs.ts';

// Files an earlier step of a job may leave in the context, next to the app's own.
const FILES = [
  'a.txt',
  'README.md',
  'notes.md',
  'docs/guide.md',
  'docs/keep.md',
  'docs/y.txt',
  'node_modules/pkg/index.js',
  'node_modules/keep/index.js',
  '.env',
  '.npmrc',
  'sub/.npmrc',
  'src/app.js',
  'src/app.test.js',
  'src/lib/b.test.js',
  'src/lib/c.js',
  'build/out.js',
  'logs/a.log',
  'logs/sub/b.log',
  'logs/sub/c.log',
  'rooted.txt',
  'nested/rooted.txt',
  'dir with space/file name.txt',
  '.git/config',
];

const DOCKERIGNORE = `# secrets an earlier step wrote
.env
/.npmrc
*.md
docs/*.md
!docs/keep.md
**/*.test.js
node_modules
!node_modules/keep
  build/
logs/**
!logs/sub/b.log
/rooted.txt
.git
`;

let dir: string;
beforeAll(async () => {
  requirePrograms('buildah');
  dir = await mkdtemp(join(tmpdir(), 'shipgate-dockerignore-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function walk(root: string, at = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(at, { withFileTypes: true })) {
    const path = join(at, entry.name);
    out.push(relative(root, path));
    if (entry.isDirectory()) out.push(...(await walk(root, path)));
  }
  return out;
}

/** What `COPY . /ctx/` puts in an image when buildah builds this context, as paths under /ctx. */
async function buildahFileList(context: string): Promise<string[]> {
  const work = join(dir, 'buildah');
  await mkdir(work);
  await writeFile(join(work, 'Containerfile'), 'FROM scratch\nCOPY . /ctx/\n');
  const storage = ['--storage-driver', 'vfs', '--root', join(work, 'root'), '--runroot', join(work, 'runroot')];
  execFileSync(
    'buildah',
    [
      ...storage,
      'build',
      '--isolation',
      'chroot',
      '--quiet',
      '-f',
      join(work, 'Containerfile'),
      '--output',
      `type=local,dest=${join(work, 'out')}`,
      context,
    ],
    { stdio: 'ignore' },
  );
  return (await walk(join(work, 'out', 'ctx'))).sort();
}

describe('.dockerignore in the daemonless builder', () => {
  it('leaves out exactly what buildah leaves out of the same context', async () => {
    const context = join(dir, 'context');
    for (const file of FILES) {
      await mkdir(join(context, dirname(file)), { recursive: true });
      await writeFile(join(context, file), file);
    }
    await mkdir(join(context, 'empty'));
    await writeFile(join(context, '.dockerignore'), DOCKERIGNORE);

    const ours = (await listContext(context, '/ctx'))
      .map((e) => e.name)
      .filter((n) => n.startsWith('ctx/'))
      .map((n) => n.slice(4));
    const buildah = await buildahFileList(context);
    expect(buildah.length).toBeGreaterThan(10);
    expect(ours.sort()).toEqual(buildah);
    // and what that means, spelled out
    expect(ours).toEqual(
      expect.arrayContaining(['docs/keep.md', 'node_modules/keep/index.js', 'logs/sub/b.log', 'nested/rooted.txt', 'sub/.npmrc', 'empty']),
    );
    for (const gone of [
      '.env',
      '.npmrc',
      'README.md',
      'docs/guide.md',
      'src/app.test.js',
      'src/lib/b.test.js',
      'node_modules/pkg',
      'build',
      'logs/a.log',
      'logs/sub/c.log',
      'rooted.txt',
      '.git',
    ])
      expect(ours).not.toContain(gone);
  });
});
