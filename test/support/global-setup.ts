import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file of a test run (contexts, nginx prefixes, Prometheus data, runner files)
 * goes under one directory in the OS temp dir, removed when the run ends: the test workers and the
 * servers they start inherit it as TMPDIR, so `os.tmpdir()` points there. Nothing is written into
 * the repository.
 */
export async function setup(): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'shipgate-tests-'));
  // Servers that drop to their own user (squid runs as `proxy`) must pass through to their own
  // directories below; each of those is mkdtemp's 0700 unless its starter opens it.
  await chmod(root, 0o711);
  process.env.TMPDIR = root;
  return async () => {
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
