// One ncc bundle per action entry point: dist/<action>/<main|post>/index.js.
// `node scripts/bundle.mjs` rebuilds every action; `node scripts/bundle.mjs canary` only that one.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every package whose code is in the bundle or its chunks, as webpack's stats name the modules:
 * ncc's own `--license` misses the modules it concatenates (zod, yaml, the PromQL grammar…).
 */
function bundledPackages(stats) {
  const dirs = new Set();
  const visit = (module) => {
    const dir = module.name?.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/ ]+)/)?.[1];
    if (dir) dirs.add(dir);
    for (const inner of module.modules ?? []) visit(inner);
  };
  for (const module of stats.modules ?? []) visit(module);
  return [...dirs].sort();
}

/** licenses.txt as ncc writes it (name, license, text), for every bundled package. */
async function licenses(statsFile) {
  const parts = [];
  for (const dir of bundledPackages(JSON.parse(await readFile(statsFile, 'utf8')))) {
    const { name, license } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    const file = (await readdir(dir)).sort().find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
    parts.push(`${name}\n${license ?? 'UNKNOWN'}\n${file ? (await readFile(join(dir, file), 'utf8')).trim() : ''}`);
  }
  return `${parts.join('\n\n')}\n`;
}

const only = process.argv.slice(2);
const actions = only.length ? only : (await readdir('src/actions')).sort();
if (!only.length) await rm('dist', { recursive: true, force: true });
const work = await mkdtemp(join(tmpdir(), 'shipgate-bundle-'));
try {
  for (const action of actions) {
    for (const entry of ['main', 'post']) {
      const source = join('src/actions', action, `${entry}.ts`);
      if (!(await stat(source).catch(() => null))) continue;
      const out = join('dist', action, entry);
      const statsFile = join(work, `${action}-${entry}.json`);
      await rm(out, { recursive: true, force: true });
      execFileSync(join('node_modules', '.bin', 'ncc'), ['build', source, '-o', out, '--stats-out', statsFile, '--quiet'], {
        stdio: 'inherit',
      });
      await writeFile(join(out, 'licenses.txt'), await licenses(statsFile));
      console.log(`bundled ${out}/index.js`);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
