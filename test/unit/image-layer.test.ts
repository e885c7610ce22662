import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { compressedLayer, type ContextEntry, hashLayer, listContext } from '../../src/image/layer.ts';

async function context(mode: number, time: Date): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-layer-'));
  await mkdir(join(dir, 'b'));
  await writeFile(join(dir, 'b', 'x.txt'), 'x'.repeat(10_000_000));
  await writeFile(join(dir, 'a.sh'), 'echo a\n');
  await chmod(join(dir, 'a.sh'), mode);
  await mkdir(join(dir, '.git'));
  for (const f of ['b/x.txt', 'a.sh', 'b']) await utimes(join(dir, f), time, time);
  return dir;
}

/** The compressed layer written to `path`, as it would stream to a registry. */
async function writeLayer(entries: ContextEntry[], path: string) {
  const layer = compressedLayer(entries, new Date(0));
  await pipeline(layer.body, createWriteStream(path));
  return { ...(await layer.done), path };
}

describe('the layer', () => {
  it('is the same bytes whatever the file times and umask, and lists parents first, sorted, without .git', async () => {
    const one = await context(0o755, new Date('2020-01-01'));
    const two = await context(0o775, new Date('2024-06-01'));
    const entries = await listContext(one, '/srv/app');
    expect(entries.map((e) => `${e.name} ${e.mode.toString(8)}`)).toEqual([
      'srv 755',
      'srv/app 755',
      'srv/app/a.sh 755',
      'srv/app/b 755',
      'srv/app/b/x.txt 644',
    ]);
    const out = await mkdtemp(join(tmpdir(), 'shipgate-layer-out-'));
    const a = await writeLayer(entries, join(out, 'a.gz'));
    const b = await writeLayer(await listContext(two, '/srv/app'), join(out, 'b.gz'));
    expect(b.digest).toBe(a.digest);
    expect(b.tar.diffId).toBe(a.tar.diffId);
    expect((await hashLayer(entries, new Date(0))).diffId).toBe(a.tar.diffId);
    // Several gzip members (10 MB spans blocks), read back as one stream by gzip and by tar.
    expect(gunzipSync(readFileSync(a.path)).length).toBe(a.tar.size);
    expect(execFileSync('tar', ['-tzf', a.path]).toString().trim().split('\n')).toEqual([
      'srv/',
      'srv/app/',
      'srv/app/a.sh',
      'srv/app/b/',
      'srv/app/b/x.txt',
    ]);
    const header = readFileSync(a.path).subarray(0, 10);
    expect([...header.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(header[9]).toBe(0xff);
  });
});
