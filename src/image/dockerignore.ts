import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import dockerignore from '@balena/dockerignore';

/** What the context's `.dockerignore` leaves out, with Docker's own pattern semantics. */
export interface ContextFilter {
  /** The path (relative, "/"-separated) is left out, by its own pattern or a parent's. */
  excludes(path: string): boolean;
  /**
   * Whether a walk must still enter an excluded directory: only when an exception (`!pattern`)
   * starts with the directory's path, which is the test Docker's and BuildKit's context walkers
   * make before skipping a directory.
   */
  mayReinclude(directory: string): boolean;
}

const NOTHING_EXCLUDED: ContextFilter = { excludes: () => false, mayReinclude: () => false };

/**
 * Reads `<context>/.dockerignore` as `docker build` does: one pattern a line, `#` comments, `!`
 * exceptions with the last matching line winning, `*`/`?`/`[…]` within one path segment, `**`
 * across any number, a leading `/` meaning the context root (every pattern is rooted there), and
 * a directory's pattern covering everything under it. The matching itself is @balena/dockerignore,
 * a port of Docker's matcher; none of these patterns match `.git`, which is always left out.
 */
export async function readContextFilter(context: string): Promise<ContextFilter> {
  const text = await readFile(join(context, '.dockerignore'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${join(context, '.dockerignore')}: ${error.code ?? error.message}`, { cause: error });
  });
  if (text === undefined) return NOTHING_EXCLUDED;
  const lines = text.split(/\r?\n/);
  // A CommonJS module typed as an ES default export; it exports itself as `.default` for this.
  const matcher = dockerignore.default().add(lines);
  const exceptions = lines
    .map((line) => line.trim())
    .filter((line) => line.startsWith('!'))
    .map((line) => posix.normalize(line.slice(1).trim()).replace(/^\/+/, ''));
  return {
    excludes: (path) => matcher.ignores(path),
    mayReinclude: (directory) => exceptions.some((pattern) => `${pattern}/`.startsWith(`${directory}/`)),
  };
}
