// One ncc bundle per action entry point: dist/<action>/<main|post>/index.js.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const actions = await readdir('src/actions');
await rm('dist', { recursive: true, force: true });
for (const action of actions.sort()) {
  for (const entry of ['main', 'post']) {
    const source = join('src/actions', action, `${entry}.ts`);
    if (!(await stat(source).catch(() => null))) continue;
    const out = join('dist', action, entry);
    execFileSync('ncc', ['build', source, '-o', out, '--license', 'licenses.txt', '--quiet'], { stdio: 'inherit' });
    console.log(`bundled ${out}/index.js`);
  }
}
