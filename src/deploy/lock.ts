import { open, readFile, unlink } from 'node:fs/promises';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Keeps two deploys or reverts on one runner host from interleaving their changes to one nginx
 * config: a lock file beside it, created exclusively, holding our pid. A lock whose process is gone
 * (a runner that died) is taken over. Across hosts, the workflow's `concurrency:` group is the guard.
 */
export async function withFileLock<T>(target: string, fn: () => Promise<T>): Promise<T> {
  const path = `${target}.shipgate.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = Number(await readFile(path, 'utf8').catch(() => '0'));
      if (holder && alive(holder)) {
        throw new Error(`another Shipgate deploy or revert (pid ${holder}) is changing ${target}; run them in one concurrency group`, {
          cause: error,
        });
      }
      await unlink(path).catch(() => {});
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}
