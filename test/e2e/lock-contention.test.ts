import { execFile } from 'node:child_process';
import { mkdtemp, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { releaseLabPerTest } from '../support/release-lab.ts';
import { node24, repoRoot } from '../support/runner.ts';

/**
 * Issue 11 §4: the lock really locks. Two processes contending on one nginx config are never
 * inside at once, whether they name it by a symlink or by its real path.
 */
const startLab = releaseLabPerTest();

describe('the lock', () => {
  it('two processes taking the router lock 300 times each, one through a symlink: never both inside', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipgate-lock-'));
    const file = join(dir, 'upstream.conf');
    await (await import('node:fs/promises')).writeFile(file, 'upstream app { server 127.0.0.1:1; }\n');
    const link = join(dir, 'sites-enabled.conf');
    await symlink(file, link);
    const marker = join(dir, 'inside');
    const stress = (path: string) =>
      promisify(execFile)(node24, [join(repoRoot, 'test/fixtures/lock-stress.ts'), '--file', path, '--marker', marker, '--rounds', '300']);
    const [a, b] = await Promise.all([stress(file), stress(link)]);
    expect(a.stdout.trim()).toBe('inside-together=0 rounds=300');
    expect(b.stdout.trim()).toBe('inside-together=0 rounds=300');
  });

  it('two deploy bundles started together against one nginx file: one works on the slots, the other stops at once; no overlap', async () => {
    const lab = await startLab('nginx', 'v0');
    const log = join(lab.dir, 'inside.log');
    const link = join(lab.dir, 'upstream-link.conf');
    await symlink(lab.nginx!.upstreamFile, link);
    const target = (configFile: string) =>
      lab.routing({ 'config-file': configFile, run: [node24, join(repoRoot, 'test/fixtures/critical-section.mjs'), log, '200'] });
    const deploy = (artifact: string, configFile: string, runId: string) =>
      lab.run('deploy', 'main', { environment: 'production', artifact, strategy: 'canary', target: target(configFile) }, { runId });
    const outcomes: string[] = [];
    for (let round = 0; round < 10; round++) {
      const [a, b] = await Promise.all([
        deploy(`a${round}`, lab.nginx!.upstreamFile, `95${round}1`),
        deploy(`b${round}`, link, `95${round}2`),
      ]);
      for (const step of [a, b]) {
        if (step.code === 0) outcomes.push('staged');
        else {
          expect(step.errors).toHaveLength(1);
          expect(step.errors[0]).toMatch(/another Shipgate run \(deploy, canary or revert\) is working on the slots of nginx upstream app/);
          outcomes.push('refused');
        }
      }
    }
    // Every `run` interval: enter and exit of one process, never interleaved with another's.
    const lines = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    let inside: string | undefined;
    let together = 0;
    for (const [what, pid] of lines) {
      if (what === 'enter') {
        if (inside !== undefined) together++;
        inside = pid;
      } else if (inside === pid) inside = undefined;
    }
    expect(together).toBe(0);
    expect(outcomes.filter((o) => o === 'staged').length).toBeGreaterThanOrEqual(10);
    console.log(
      `lock contention: ${outcomes.filter((o) => o === 'staged').length} staged, ${outcomes.filter((o) => o === 'refused').length} refused at once, ${together} both inside`,
    );
  }, 180_000);
});
