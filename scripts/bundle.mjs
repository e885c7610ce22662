// One ncc bundle per action entry point: dist/<action>/<main|post>/index.js.
// `node scripts/bundle.mjs` rebuilds every action; `node scripts/bundle.mjs canary` only that one.
import { execFileSync } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const only = process.argv.slice(2);
const actions = only.length ? only : (await readdir('src/actions')).sort();
if (!only.length) await rm('dist', { recursive: true, force: true });
for (const action of actions) {
  for (const entry of ['main', 'post']) {
    const source = join('src/actions', action, `${entry}.ts`);
    if (!(await stat(source).catch(() => null))) continue;
    const out = join('dist', action, entry);
    await rm(out, { recursive: true, force: true });
    execFileSync(join('node_modules', '.bin', 'ncc'), ['build', source, '-o', out, '--license', 'licenses.txt', '--quiet'], {
      stdio: 'inherit',
    });
    console.log(`bundled ${out}/index.js`);
  }
}
