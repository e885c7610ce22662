import { mkdtemp, readFile, readlink, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editUpstream, findUpstream, tokenize, type UpstreamBlock } from '../../src/routers/nginx-config.ts';
import { NginxUpstream } from '../../src/routers/nginx-upstream.ts';

/** A file a user would write: backup and down servers, parameters, comments with `}` and `;`, quoting. */
export const USER_FILE = `# app routing } not a close;
upstream other { server 10.0.0.9:80; }
upstream app {
    zone app 64k;   # shared memory } for the runtime API
    # blue pool
    server 10.0.0.5:8080 max_fails=3 fail_timeout=10s;
    server 10.0.0.7:8080 weight=5 max_conns=100 slow_start=30s; # the big one
    server 10.0.0.6:8080 weight=2 down;
    server 10.0.0.99:8080 backup;
    server 10.0.0.98:8080 down; # the user's, under maintenance
    keepalive 32;
}
server_tokens off; # "quoted { in a comment"
map $http_x "a;}b" { default 1; }
`;

const block = (text: string, name = 'app') => {
  const found = findUpstream(text, name);
  if (typeof found === 'string') throw new Error(found);
  return found as UpstreamBlock;
};

describe('the nginx tokenizer', () => {
  it('reads words, strings, comments and punctuation, and a } inside a comment or string is not a brace', () => {
    const tokens = tokenize('a "b;}" #c }\n{ d; } ${x}y;');
    expect(tokens.map((t) => [t.kind, t.text])).toEqual([
      ['word', 'a'],
      ['string', 'b;}'],
      ['comment', '#c }'],
      ['{', '{'],
      ['word', 'd'],
      [';', ';'],
      ['}', '}'],
      ['word', '${x}y'],
      [';', ';'],
    ]);
  });

  it('finds the block and its servers whatever the comments hold', () => {
    const found = block(USER_FILE);
    expect(found.servers.map((s) => [s.address, s.weight, s.down, s.backup])).toEqual([
      ['10.0.0.5:8080', 1, false, false],
      ['10.0.0.7:8080', 5, false, false],
      ['10.0.0.6:8080', 2, true, false],
      ['10.0.0.99:8080', 1, false, true],
      ['10.0.0.98:8080', 1, true, false],
    ]);
    expect(USER_FILE.slice(found.close.start, found.close.end + 1)).toBe('}\n');
    expect(findUpstream(USER_FILE, 'missing')).toMatch(/holds no "upstream missing/);
    expect(findUpstream(`${USER_FILE}upstream app { server x:1; }`, 'app')).toMatch(/holds 2 "upstream app" blocks/);
    expect(findUpstream('upstream app { server x:1; # }', 'app')).toMatch(/never closed/);
    expect(findUpstream('upstream app { server "x:1; }', 'app')).toMatch(/never closed/);
  });
});

describe('editing the upstream block', () => {
  const record = (text: string) => ({ text, isRecord: (c: string) => c.startsWith('# shipgate:') });

  it('changes only the owned weights and down flags, adds missing owned servers, and keeps every other byte', () => {
    const next = editUpstream(
      USER_FILE,
      block(USER_FILE),
      [
        { address: '10.0.0.5:8080', weight: 90 },
        { address: '10.0.0.7:8080', weight: 90 },
        { address: '10.0.0.6:8080', weight: 10 },
        { address: '10.0.0.8:8080', weight: 10 },
      ],
      record('# shipgate: live=blue'),
    );
    expect(next).toBe(`# app routing } not a close;
upstream other { server 10.0.0.9:80; }
upstream app {
    # shipgate: live=blue
    zone app 64k;   # shared memory } for the runtime API
    # blue pool
    server 10.0.0.5:8080 weight=90 max_fails=3 fail_timeout=10s;
    server 10.0.0.7:8080 weight=90 max_conns=100 slow_start=30s; # the big one
    server 10.0.0.6:8080 weight=10;
    server 10.0.0.8:8080 weight=10;
    server 10.0.0.99:8080 backup;
    server 10.0.0.98:8080 down; # the user's, under maintenance
    keepalive 32;
}
server_tokens off; # "quoted { in a comment"
map $http_x "a;}b" { default 1; }
`);
    // Back to one slot: the other's servers keep their lines and parameters, with down.
    const back = editUpstream(
      next,
      block(next),
      [
        { address: '10.0.0.5:8080', weight: 100 },
        { address: '10.0.0.7:8080', weight: 100 },
        { address: '10.0.0.6:8080', weight: 0 },
        { address: '10.0.0.8:8080', weight: 0 },
      ],
      record('# shipgate: live=blue kept=green'),
    );
    expect(back).toContain('    # shipgate: live=blue kept=green\n    zone app 64k;');
    expect(back).toContain('    server 10.0.0.7:8080 weight=100 max_conns=100 slow_start=30s; # the big one\n');
    expect(back).toContain('    server 10.0.0.6:8080 weight=10 down;\n    server 10.0.0.8:8080 weight=10 down;\n');
    // Applied twice, the same edit changes nothing more.
    expect(editUpstream(back, block(back), [{ address: '10.0.0.6:8080', weight: 0 }], record('# shipgate: live=blue kept=green'))).toBe(
      back,
    );
  });

  it('adds servers and the record to an empty block', () => {
    const text = 'upstream app {\n}\n';
    expect(
      editUpstream(
        text,
        block(text),
        [
          { address: 'a:1', weight: 100 },
          { address: 'b:2', weight: 0 },
        ],
        record('# shipgate: live=blue'),
      ),
    ).toBe('upstream app {\n    # shipgate: live=blue\n    server a:1 weight=100;\n    server b:2 weight=1 down;\n}\n');
  });
});

describe('NginxUpstream', () => {
  const options = (file: string, extra: Partial<ConstructorParameters<typeof NginxUpstream>[0]> = {}) => ({
    configFile: file,
    upstream: 'app',
    owned: ['10.0.0.5:8080', '10.0.0.7:8080', '10.0.0.6:8080', '10.0.0.8:8080'],
    reloadCommand: [process.execPath, '-e', ''],
    ...extra,
  });

  it('reads owned weights (down is 0), refuses a server it does not own that carries traffic, and names a bad record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipgate-upstream-'));
    const file = join(dir, 'upstream.conf');
    await writeFile(file, USER_FILE);
    const upstream = new NginxUpstream(options(file));
    const snapshot = await upstream.read();
    expect([...snapshot.servers.values()].map((s) => [s.id, s.weight])).toEqual([
      ['10.0.0.5:8080', 1],
      ['10.0.0.7:8080', 5],
      ['10.0.0.6:8080', 0],
      ['10.0.0.8:8080', 0],
    ]);
    await writeFile(file, USER_FILE.replace('server 10.0.0.99:8080 backup;', 'server 10.0.0.99:8080;'));
    await expect(upstream.read()).rejects.toThrow(/routes upstream app to 10\.0\.0\.99:8080, which Shipgate does not own/);
    await writeFile(file, USER_FILE.replace('# blue pool', '# shipgate: live=blue blue=app:v1\\n'));
    const tampered = await upstream.read();
    expect(tampered.record).toBeUndefined();
    expect(tampered.recordProblem).toMatch(/blue/);
  });

  it('writes through a symlink to its target atomically, and puts the old bytes back when the test fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipgate-upstream-'));
    const target = join(dir, 'sites-available.conf');
    const link = join(dir, 'sites-enabled.conf');
    await writeFile(target, USER_FILE);
    await symlink(target, link);
    await new NginxUpstream(options(link)).write(new Map([['10.0.0.6:8080', 7]]), { live: 'blue', slots: {} });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    expect(await readFile(target, 'utf8')).toContain('server 10.0.0.6:8080 weight=7;');
    const before = await readFile(target, 'utf8');
    const reloaded = join(dir, 'reloaded');
    const failing = new NginxUpstream(
      options(link, {
        testCommand: [process.execPath, '-e', 'console.error("nginx: [emerg] invalid"); process.exit(1)'],
        reloadCommand: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(reloaded)}, '')`],
      }),
    );
    await expect(failing.write(new Map([['10.0.0.6:8080', 50]]), undefined)).rejects.toThrow(/invalid/);
    expect(await readFile(target, 'utf8')).toBe(before);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    await expect(readFile(reloaded)).rejects.toThrow(/ENOENT/);
  });
});
