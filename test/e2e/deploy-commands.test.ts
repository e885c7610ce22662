import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { deployLabPerTest } from '../support/deploy-lab.ts';
import { node24, repoRoot } from '../support/runner.ts';

const startLab = deployLabPerTest();

describe('the commands deploy runs (issue 12 §4)', () => {
  it('get a clean environment, cannot run workflow commands, and a server they leave in the background does not hold the step', async () => {
    const lab = await startLab();
    const port = lab.green.split(':')[1]!;
    // What a user's put-live script might do: start the app in the background, then report.
    const script = [
      `${node24} ${join(repoRoot, 'test/fixtures/app.mjs')} --port ${port} --version "$SHIPGATE_ARTIFACT" &`,
      `echo $! > ${lab.dir}/background.pid`,
      `env > ${lab.dir}/env.txt`,
      'echo "::error::spoofed by the command"',
      'echo "::add-mask::nothing"',
      'echo started',
    ].join('\n');
    const step = await lab.runWith(
      'deploy',
      {
        environment: 'production',
        artifact: 'r1',
        target: stringify({ type: 'command', run: ['sh', '-c', script], timeout: '2m', env: ['DEPLOY_KEY'] }),
        health: `{url: "http://${lab.green}/healthz", timeout: 10s, interval: 200ms}`,
      },
      { DEPLOY_KEY: 'dk-named-by-the-user', NPM_TOKEN: 'npm-not-named' },
    );
    expect(step.errors).toEqual([]);
    expect(step.code).toBe(0);
    expect(step.durationMs).toBeLessThan(20_000); // not the 2m timeout the background app would have held it to

    const env = await readFile(join(lab.dir, 'env.txt'), 'utf8');
    expect(env).toContain('SHIPGATE_ARTIFACT=r1');
    expect(env).toContain('DEPLOY_KEY=dk-named-by-the-user');
    expect(env).toContain('GITHUB_REPOSITORY=');
    expect(env).not.toMatch(/^INPUT_/m);
    expect(env).not.toContain('ghs_doubletoken');
    expect(env).not.toContain('npm-not-named');
    expect(env).not.toMatch(/^GITHUB_(OUTPUT|STATE|ENV)=/m);

    // The command's output is in the log as it was, inside a stop-commands block.
    const token = /^::stop-commands::([0-9a-f]{32})$/m.exec(step.stdout)![1]!;
    const block = step.stdout.slice(step.stdout.indexOf(`::stop-commands::${token}`), step.stdout.indexOf(`::${token}::`));
    expect(block).toContain('\n::error::spoofed by the command\n');
    expect(block).toContain('\nstarted\n');

    // The server the command left behind still serves: the step did not kill it.
    const served = await fetch(`http://${lab.green}/`);
    expect(served.headers.get('x-version')).toBe('r1');
    process.kill(Number(await readFile(join(lab.dir, 'background.pid'), 'utf8')), 'SIGTERM');
  });

  it('report a timeout as a timeout, and a command that ignores SIGTERM is killed and fails the deploy', async () => {
    const lab = await startLab();
    const stubborn = [node24, '-e', 'process.on("SIGTERM", () => console.log("ignoring SIGTERM")); setInterval(() => {}, 1000)'];
    const step = await lab.run('deploy', {
      environment: 'production',
      artifact: 'r1',
      'on-failure': 'fail',
      target: stringify({ type: 'command', run: stubborn, timeout: '1s' }),
    });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(/timed out after 1s \(it ignored SIGTERM and was killed after 5s\)/);
    expect(step.durationMs).toBeLessThan(30_000);
  });
});
