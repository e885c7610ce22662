import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file's content in one rename, so a reader (nginx on reload) never sees half a file.
 * The temp file sits beside the target so the rename stays on one filesystem, and keeps its mode.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => 0o644,
  );
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Writes `next`, runs `apply` (test and reload), and puts the previous bytes back if apply throws.
 * Returns only once the new content is both on disk and applied.
 */
export async function replaceFileTransactionally(path: string, next: string, apply: () => Promise<void>): Promise<void> {
  const previous = await readFile(path, 'utf8');
  await writeFileAtomic(path, next);
  try {
    await apply();
  } catch (error) {
    await writeFileAtomic(path, previous);
    throw error;
  }
}
