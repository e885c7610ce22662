import { execFileSync } from 'node:child_process';
import { lstat, readFile, readlink, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trafficStats } from '../support/load.ts';
import { releaseLabPerTest } from '../support/release-lab.ts';

/**
 * Issue 10 §4 on real nginx: a file as a user writes it (backup and down servers, parameters,
 * comments with `}` in them), included through a symlink, driven by deploy and revert. nginx -t
 * passes after every change, the symlink stays one, and only the owned servers' weights, their
 * down flags and the record line ever differ.
 */
const startLab = releaseLabPerTest();

const health = '{url: "http://{address}/healthz", timeout: 5s, interval: 200ms}';

const userFile = (blue: string[]) => `# app routing } not a close;
upstream app {
    zone app 64k;   # shared memory } for the runtime API
    # blue pool
    server ${blue[0]} max_fails=3 fail_timeout=10s;
    server ${blue[1]} weight=5 max_conns=100; # the big one
    server 127.0.0.1:9 backup; # the user's spare
    server 127.0.0.1:10 down; # the user's, under maintenance
    keepalive 32;
}
`;

/** The file with what Shipgate may change taken out: owned weights, down flags, the record line, its own added lines. */
const userBytes = (text: string, owned: string[]) =>
  text
    .split('\n')
    .filter((line) => !/^\s*# shipgate: /.test(line))
    .filter(
      (line) =>
        !owned.some(
          (a) =>
            line.trim() === `server ${a} weight=${/weight=(\d+)/.exec(line)?.[1]};` ||
            line.trim() === `server ${a} weight=${/weight=(\d+)/.exec(line)?.[1]} down;`,
        ) || line.includes('#'),
    )
    .map((line) => (owned.some((a) => line.includes(`server ${a} `)) ? line.replace(/ weight=\d+/, '').replace(' down', '') : line))
    .join('\n');

describe('nginx edits keep what the user wrote', () => {
  it('through deploys and a revert, nginx -t passes, the symlink stays, and every other byte is the user’s', async () => {
    const lab = await startLab('nginx', 'v0');
    const nginx = lab.nginx!;
    const owned = [...lab.pools.blue, ...lab.pools.green];
    // sites-enabled/upstream.conf -> sites-available/upstream.conf, as Debian lays nginx out.
    const real = join(dirname(nginx.upstreamFile), 'upstream.available.conf');
    const original = userFile(lab.pools.blue);
    await writeFile(real, original);
    await unlink(nginx.upstreamFile);
    await symlink(real, nginx.upstreamFile);
    execFileSync(nginx.reloadCommand[0]!, nginx.reloadCommand.slice(1));
    lab.load.start();
    const check = async () => {
      execFileSync(nginx.testCommand[0]!, nginx.testCommand.slice(1));
      expect((await lstat(nginx.upstreamFile)).isSymbolicLink()).toBe(true);
      expect(await readlink(nginx.upstreamFile)).toBe(real);
      const text = await readFile(real, 'utf8');
      for (const line of [
        '# app routing } not a close;',
        '    zone app 64k;   # shared memory } for the runtime API',
        "    server 127.0.0.1:9 backup; # the user's spare",
        "    server 127.0.0.1:10 down; # the user's, under maintenance",
        '    keepalive 32;',
      ])
        expect(text).toContain(`${line}\n`);
      expect(text).toMatch(
        new RegExp(`    server ${lab.pools.blue[1]!.replace(/\./g, '\\.')} weight=\\d+ max_conns=100( down)?; # the big one\\n`),
      );
      expect(userBytes(text, owned)).toBe(userBytes(original, owned));
      return text;
    };
    const deploy = (artifact: string, runId: string) =>
      lab.run(
        'deploy',
        'main',
        { environment: 'production', production: 'true', artifact, strategy: 'blue-green', target: lab.routing(), health },
        { runId },
      );
    expect((await deploy('v1', '9601')).errors).toEqual([]);
    const afterV1 = await check();
    // Shipgate set the pools' weights (equal within a pool), then blue went to 0: its servers keep
    // their lines and parameters, with down added at the end; green's servers were added after them.
    expect(afterV1).toContain(`    server ${lab.pools.blue[0]} weight=100 max_fails=3 fail_timeout=10s down;\n`);
    expect(afterV1).toContain(
      `    server ${lab.pools.blue[1]} weight=100 max_conns=100 down; # the big one\n    server ${lab.pools.green[0]} weight=100;\n`,
    );
    expect((await deploy('v2', '9602')).errors).toEqual([]);
    await check();
    const revert = await lab.run(
      'revert',
      'main',
      { environment: 'production', reason: 'test', target: lab.routing(), health },
      { runId: '9603' },
    );
    expect(revert.errors).toEqual([]);
    const final = await check();
    expect(final).toContain(`    server ${lab.pools.green[0]} weight=100;\n`);
    const samples = await lab.load.stop();
    expect(trafficStats(samples).routingFailures).toBe(0);
    expect(trafficStats(samples.slice(-20)).byVersion).toEqual({ v1: 20 });
  });
});
