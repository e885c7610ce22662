import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NginxUpstream, readServers, renderServers, upstreamProblem } from '../../src/routers/nginx-upstream.ts';

const FILE = `# app routing
upstream other { server 10.0.0.9:80; }
upstream app {
    # primary
    server 10.0.0.5:8080 max_fails=3;
    keepalive 32;
}
server_tokens off;
`;

describe('nginx upstream blocks', () => {
  it('rewrites only the server lines of the named block, keeping its other directives', () => {
    const next = renderServers(
      FILE,
      'app',
      [
        { address: '10.0.0.5:8080', weight: 90 },
        { address: '10.0.0.6:8080', weight: 10 },
      ],
      'canary 10%',
    );
    expect(next).toBe(`# app routing
upstream other { server 10.0.0.9:80; }
upstream app {
    # managed by shipgate: canary 10%
    server 10.0.0.5:8080 weight=90;
    server 10.0.0.6:8080 weight=10;
    keepalive 32;
}
server_tokens off;
`);
    expect(readServers(next, 'app')).toEqual([
      { address: '10.0.0.5:8080', weight: 90 },
      { address: '10.0.0.6:8080', weight: 10 },
    ]);
    expect(readServers(next, 'other')).toEqual([{ address: '10.0.0.9:80', weight: 1 }]);
  });

  it('leaves out servers of weight 0 and is stable when applied twice', () => {
    const once = renderServers(
      FILE,
      'app',
      [
        { address: '10.0.0.5:8080', weight: 100 },
        { address: '10.0.0.6:8080', weight: 0 },
      ],
      'canary 0%',
    );
    expect(
      renderServers(
        once,
        'app',
        [
          { address: '10.0.0.5:8080', weight: 100 },
          { address: '10.0.0.6:8080', weight: 0 },
        ],
        'canary 0%',
      ),
    ).toBe(once);
    expect(readServers(once, 'app')).toEqual([{ address: '10.0.0.5:8080', weight: 100 }]);
  });

  it('ignores down and backup servers when reading what carries traffic', () => {
    expect(readServers('upstream app { server a:1 weight=5; server b:2 down; server c:3 backup; }', 'app')).toEqual([
      { address: 'a:1', weight: 5 },
    ]);
  });

  it('says what is wrong with a file it cannot manage', () => {
    expect(upstreamProblem(FILE, 'missing')).toMatch(/holds no "upstream missing/);
    expect(upstreamProblem(`${FILE}\nupstream app { server x:1; }`, 'app')).toMatch(/holds 2 "upstream app" blocks/);
    expect(upstreamProblem('upstream app { server x:1;', 'app')).toMatch(/never closed/);
    expect(upstreamProblem(FILE, 'app')).toBeUndefined();
  });

  it('puts the previous bytes back when the test command fails, and does not reload', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipgate-upstream-'));
    const file = join(dir, 'upstream.conf');
    const reloaded = join(dir, 'reloaded');
    await writeFile(file, FILE);
    const upstream = new NginxUpstream({
      configFile: file,
      upstream: 'app',
      testCommand: [process.execPath, '-e', 'console.error("nginx: [emerg] invalid"); process.exit(1)'],
      reloadCommand: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(reloaded)}, '')`],
    });
    await expect(upstream.apply([{ address: '10.0.0.6:8080', weight: 100 }], 'canary 100%')).rejects.toThrow(/invalid/);
    expect(await readFile(file, 'utf8')).toBe(FILE);
    await expect(readFile(reloaded)).rejects.toThrow(/ENOENT/);
  });
});
