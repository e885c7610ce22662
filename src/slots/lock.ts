import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';

/**
 * Two locks per router, both atomic (a `mkdir`) and owned (only the holder removes its own; a
 * holder that died is taken over once its lock has not been refreshed for STALE_MS):
 *
 * - `router`: around every router write (read, compare with what this run last set, write, test,
 *   reload). Held for a second or two, and waited for, so a revert always gets in within seconds.
 * - `slots`: around work that puts a version on a slot or ramps traffic onto one (minutes). It
 *   fails fast: a second such run would be working on the very slot the first one is.
 *
 * Across hosts, the workflow's `concurrency:` group is the guard; these keep runs on one host apart.
 */
export type LockKind = 'router' | 'slots';

const STALE_MS = 6000;
const ROUTER_WAIT_MS = 30_000;

/** Where a router's locks live: beside the real file behind any symlink, so both names are one lock. */
export async function fileLockKey(path: string): Promise<string> {
  return realpath(path);
}

/** For a router reached over the network (HAProxy's `host:port`), a lock in the host's temp dir. */
export function endpointLockKey(endpoint: string): string {
  return join(tmpdir(), `shipgate-${endpoint.replace(/[^A-Za-z0-9.-]/g, '_')}`);
}

export class LockBusyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LockBusyError';
  }
}

export async function withLock<T>(key: string, kind: LockKind, what: string, logger: Logger, fn: () => Promise<T>): Promise<T> {
  const name = `${key}.shipgate-${kind}`;
  let release: () => Promise<void>;
  // Loaded on first use, not at start: it patches fs through graceful-fs as it loads (4 ms).
  const { default: lockfile } = await import('proper-lockfile');
  try {
    release = await lockfile.lock(name, {
      realpath: false,
      lockfilePath: `${name}.lock`,
      stale: STALE_MS,
      update: STALE_MS / 4,
      retries:
        kind === 'router' ? { retries: Math.ceil(ROUTER_WAIT_MS / 200), minTimeout: 20, maxTimeout: 200, factor: 1.3, randomize: true } : 0,
      onCompromised: (error) => logger.warning(`The ${kind} lock on ${what} was lost while held (${error.message}).`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new LockBusyError(
      kind === 'router'
        ? `another Shipgate run held ${what} for over ${ROUTER_WAIT_MS / 1000}s; nothing was changed`
        : `another Shipgate run (deploy, canary or revert) is working on the slots of ${what}; give them one concurrency group so they wait for each other`,
      { cause: error },
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch((error: Error) => logger.warning(`Releasing the ${kind} lock on ${what}: ${error.message}`));
  }
}
