import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandEnv, commandSchema, runChecked, runCommand } from '../../src/core/command.ts';

const node = process.execPath;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shipgate-cmd-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Collects what runCommand streams to the log, with the time each piece arrived. */
function logSink() {
  const pieces: Array<{ at: number; text: string }> = [];
  return { pieces, write: (text: string) => pieces.push({ at: performance.now(), text }), text: () => pieces.map((p) => p.text).join('') };
}

/** Running, not a zombie waiting for an init that may never reap it. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) [ZX]/.test(stat);
}

describe('commandSchema', () => {
  it('splits a command line into argv, honouring quotes', () => {
    expect(commandSchema.parse(`nginx -s reload -g 'daemon off;'`)).toEqual(['nginx', '-s', 'reload', '-g', 'daemon off;']);
  });

  it('takes a YAML list as argv as it is', () => {
    expect(commandSchema.parse(['nginx', '-t', 5])).toEqual(['nginx', '-t', '5']);
  });

  it.each(['a; b', 'a && b', 'a | b', 'a > /etc/x', 'a $(b)', 'a `b`', 'a $HOME', 'rm *', 'a\nb'])('refuses shell syntax in %j', (line) => {
    const result = commandSchema.safeParse(line);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toMatch(/shell syntax/);
  });
});

describe('commandEnv', () => {
  const step = {
    PATH: '/usr/bin',
    HOME: '/home/runner',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    CI: 'true',
    HTTPS_PROXY: 'http://proxy:3128',
    no_proxy: 'localhost',
    RUNNER_TEMP: '/tmp/r',
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_RUN_ID: '42',
    GITHUB_TOKEN: 'ghs_x',
    GITHUB_OUTPUT: '/tmp/r/out',
    GITHUB_STATE: '/tmp/r/state',
    GITHUB_ENV: '/tmp/r/env',
    ACTIONS_RUNTIME_TOKEN: 'rt',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x',
    'INPUT_GITHUB-TOKEN': 'ghs_y',
    INPUT_PASSWORD: 'hunter2',
    INPUT_METRICS: 'bearer-token: abc',
    NPM_TOKEN: 'npm_x',
    AWS_SECRET_ACCESS_KEY: 'aws',
    DEPLOY_KEY: 'dk',
    SOMETHING_ELSE: 'x',
  };

  it('keeps the runner’s ordinary variables and drops inputs, tokens and the step’s file commands', () => {
    expect(commandEnv([], {}, step)).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/runner',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      CI: 'true',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      RUNNER_TEMP: '/tmp/r',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_RUN_ID: '42',
    });
  });

  it('passes a credential the user names, and the SHIPGATE_* values', () => {
    const env = commandEnv(['DEPLOY_KEY', 'NOT_SET'], { SHIPGATE_ARTIFACT: 'app@sha256:1' }, step);
    expect(env).toMatchObject({ DEPLOY_KEY: 'dk', SHIPGATE_ARTIFACT: 'app@sha256:1' });
    expect(env).not.toHaveProperty('NOT_SET');
  });
});

describe('runCommand', () => {
  it('passes arguments literally: no shell sees them', async () => {
    const target = join(dir, 'out');
    const result = await runCommand(
      [node, '-e', 'require("fs").writeFileSync(process.argv[1], process.argv[2])', target, '$(whoami); echo hi'],
      {
        quiet: true,
      },
    );
    expect(result.code).toBe(0);
    expect(await readFile(target, 'utf8')).toBe('$(whoami); echo hi');
  });

  it('gives a real command a clean environment: no INPUT_*, no token, only what the user named', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { 'INPUT_GITHUB-TOKEN': 'ghs_secret', INPUT_PASSWORD: 'hunter2', GITHUB_TOKEN: 'ghs_t', DEPLOY_KEY: 'dk' });
    try {
      const result = await runCommand([node, '-e', 'console.log(JSON.stringify(process.env))'], {
        quiet: true,
        passEnv: ['DEPLOY_KEY'],
        env: { SHIPGATE_ENVIRONMENT: 'production' },
      });
      const env = JSON.parse(result.stdout) as Record<string, string>;
      expect(Object.keys(env).filter((k) => k.startsWith('INPUT_'))).toEqual([]);
      expect(env).not.toHaveProperty('GITHUB_TOKEN');
      expect(env).toMatchObject({ DEPLOY_KEY: 'dk', SHIPGATE_ENVIRONMENT: 'production', PATH: process.env.PATH });
    } finally {
      for (const key of ['INPUT_GITHUB-TOKEN', 'INPUT_PASSWORD', 'GITHUB_TOKEN', 'DEPLOY_KEY']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('streams output as it comes, inside a stop-commands block the command cannot close', async () => {
    const log = logSink();
    const started = performance.now();
    const result = await runCommand(
      [node, '-e', 'console.log("::error::spoofed"); setTimeout(() => console.log("::set-output name=x::late"), 1500)'],
      { write: log.write },
    );
    const ended = performance.now();
    expect(result.code).toBe(0);
    const first = log.pieces.find((p) => p.text.includes('spoofed'))!;
    expect(first.at - started).toBeLessThan(ended - started - 1000); // seen a good second before the end
    const text = log.text();
    const token = /::stop-commands::([0-9a-f]{32})\n/.exec(text)![1]!;
    const [before, inside, after] = [
      text.indexOf(`::stop-commands::${token}`),
      text.indexOf('\n::error::spoofed'),
      text.indexOf(`::${token}::`),
    ];
    expect(before).toBeGreaterThanOrEqual(0);
    expect(inside).toBeGreaterThan(before);
    expect(text.indexOf('\n::set-output name=x::late')).toBeGreaterThan(inside);
    expect(after).toBeGreaterThan(text.indexOf('\n::set-output name=x::late'));
    expect(text.endsWith(`::${token}::\n`)).toBe(true);
    expect(text.startsWith('[command]')).toBe(true);
  });

  it('does not mangle a character split between two writes', async () => {
    const log = logSink();
    const script =
      'const b = Buffer.from("été ✓\\n"); process.stdout.write(b.subarray(0, 2)); setTimeout(() => process.stdout.write(b.subarray(2)), 100)';
    await runCommand([node, '-e', script], { write: log.write });
    expect(log.text()).toContain('\nété ✓\n');
  });

  it('keeps no more than a bounded tail of a large output, and does not fail on it', async () => {
    let logged = 0;
    const result = await runCommand(
      [node, '-e', 'const line = "x".repeat(1023) + "\\n"; for (let i = 0; i < 6 * 1024; i++) process.stdout.write(line)'],
      {
        write: (t) => (logged += t.length),
      },
    );
    expect(result.code).toBe(0);
    expect(logged).toBeGreaterThanOrEqual(6 * 1024 * 1024);
    expect(result.stdout.length).toBeLessThanOrEqual(64 * 1024);
    expect(result.stdout.endsWith('x\n')).toBe(true);
  });

  it('reports a timeout as a timeout, never as an exit code', async () => {
    const result = await runCommand([node, '-e', 'setTimeout(() => {}, 30000)'], { quiet: true, timeoutMs: 300 });
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    expect(result.code).not.toBe(0);
    await expect(runChecked([node, '-e', 'setTimeout(() => {}, 30000)'], { quiet: true, timeoutMs: 300 })).rejects.toThrow(
      /timed out after 300ms \(stopped with SIGTERM\)/,
    );
  });

  it('kills a command that ignores SIGTERM after the grace, and never counts it as success', async () => {
    const started = performance.now();
    const ignoring = 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)';
    await expect(runChecked([node, '-e', ignoring], { quiet: true, timeoutMs: 500, graceMs: 300 })).rejects.toThrow(
      /timed out after 500ms \(it ignored SIGTERM and was killed after 300ms\)/,
    );
    expect(performance.now() - started).toBeLessThan(5000);
    const exitsZero = 'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)';
    const result = await runCommand([node, '-e', exitsZero], { quiet: true, timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.code).not.toBe(0);
  });

  it('stops the command’s whole process group on timeout', async () => {
    const pidFile = join(dir, 'grandchild');
    await runCommand(['sh', '-c', `sleep 60 & echo $! > ${pidFile}; wait`], { quiet: true, timeoutMs: 500, graceMs: 500 });
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    await sleep(100);
    expect(await alive(grandchild)).toBe(false);
  });

  it('ends when the command exits, though a server it started in the background keeps the pipes open and keeps running', async () => {
    const pidFile = join(dir, 'server');
    const started = performance.now();
    const result = await runCommand(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo started`], { quiet: true, timeoutMs: 10_000 });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ code: 0, stdout: 'started\n' });
    const server = Number(await readFile(pidFile, 'utf8'));
    expect(await alive(server)).toBe(true);
    process.kill(server, 'SIGKILL');
  });

  it('stops the command when the run is cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await expect(runChecked([node, '-e', 'setTimeout(() => {}, 30000)'], { quiet: true, signal: controller.signal })).rejects.toThrow(
      /stopped because the run was cancelled/,
    );
  });

  it('feeds input on stdin, never in argv', async () => {
    const result = await runCommand([node, '-e', 'process.stdin.pipe(process.stdout)'], { quiet: true, input: 'secret' });
    expect(result.stdout).toBe('secret');
  });

  it('reports the exit code and the command’s own words, escaped', async () => {
    await expect(
      runChecked([node, '-e', 'console.error("config test failed\\n::error::x"); process.exit(3)'], { quiet: true }),
    ).rejects.toThrow(/exited 3: config test failed \| ::error::x$/);
  });

  it('says when the program does not exist', async () => {
    await expect(runCommand(['shipgate-no-such-program'], { quiet: true })).rejects.toThrow(/not found on PATH/);
  });
});
