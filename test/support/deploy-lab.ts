import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { GitHubDouble } from './github-double.ts';
import { LoadGenerator } from './load.ts';
import { afterEach, expect } from 'vitest';
import { freePort, type Nginx, startNginx, stopAll } from './services.ts';
import { node24, repoRoot, runStep, type StepResult } from './runner.ts';

/**
 * A deploy target in miniature: two slots (blue, green) on 127.0.0.1 behind real nginx, apps put
 * on them by test/fixtures/slot.mjs (the `run` command), and the OpenAPI-checked GitHub double.
 */
export interface DeployLab {
  dir: string;
  blue: string;
  green: string;
  nginx: Nginx;
  github: GitHubDouble;
  load: LoadGenerator;
  /** Artifact → app mode for slot.mjs, e.g. { v2: 'unready' }. */
  modes: Record<string, string>;
  /** The blue-green target YAML for this lab. */
  nginxTarget(overrides?: Record<string, unknown>): string;
  /** Runs an action's main against this lab's GitHub double. */
  run(action: 'deploy' | 'revert', inputs: Record<string, string>): Promise<StepResult>;
  /** The same, with extra variables in the step's environment (`env:` of a workflow step). */
  runWith(action: 'deploy' | 'revert', inputs: Record<string, string>, env: Record<string, string>): Promise<StepResult>;
  /** The servers nginx's upstream routes to, as the config file says. */
  upstream(): Promise<string[]>;
  upstreamText(): Promise<string>;
  /** What slot.mjs was asked to do, in order. */
  calls(): Promise<Array<{ address: string; version: string; mode: string; env: Record<string, string> }>>;
  stop(): Promise<void>;
}

export const slotCommand = (dir: string, modes: Record<string, string>, address = '{address}') => [
  node24,
  join(repoRoot, 'test/fixtures/slot.mjs'),
  '--dir',
  dir,
  '--address',
  address,
  '--version',
  '{artifact}',
  '--modes',
  JSON.stringify(modes),
];

/**
 * For a test file: a starter that gives each test its own lab, and after each test checks that
 * the GitHub double saw no request or response off GitHub's OpenAPI description, once it is all stopped.
 */
export function labPerTest<Args extends unknown[], Lab extends { github: GitHubDouble; stop(): Promise<void> }>(
  start: (...args: Args) => Promise<Lab>,
): (...args: Args) => Promise<Lab> {
  let current: Lab | undefined;
  afterEach(async () => {
    const lab = current;
    current = undefined;
    const problems = lab?.github.problems ?? [];
    // Stopped first, so a failed check never leaves servers behind.
    await lab?.stop();
    await stopAll();
    // Joined, so a failure prints what the double objected to, not "[Array(1)]".
    expect(problems.join('\n')).toBe('');
  });
  return async (...args) => (current = await start(...args));
}

export const deployLabPerTest = () => labPerTest(startDeployLab);

/** Starts the lab with `initial` (an artifact no deployment recorded) running live on blue. */
export async function startDeployLab(initial = 'v0'): Promise<DeployLab> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-slots-'));
  const blue = `127.0.0.1:${await freePort()}`;
  const green = `127.0.0.1:${await freePort()}`;
  const [command, ...args] = slotCommand(dir, {}, blue).map((a) => a.replace('{artifact}', initial));
  await promisify(execFile)(command!, args);
  const nginx = await startNginx([blue]);
  const github = await GitHubDouble.start();
  const modes: Record<string, string> = {};
  const lab: DeployLab = {
    dir,
    blue,
    green,
    nginx,
    github,
    modes,
    load: new LoadGenerator(`${nginx.url}/`, 100),
    nginxTarget: (overrides = {}) =>
      stringify({
        type: 'nginx',
        'config-file': nginx.upstreamFile,
        upstream: 'app',
        blue,
        green,
        'reload-command': nginx.reloadCommand,
        'test-command': nginx.testCommand,
        run: slotCommand(dir, modes),
        ...overrides,
      }),
    run: (action, inputs) => lab.runWith(action, inputs, {}),
    runWith: (action, inputs, env) =>
      runStep(action, 'main', {
        inputs: { 'github-token': 'ghs_doubletoken000000000000000000000000', ...inputs },
        env: { ...github.env(), ...env },
        timeoutMs: 60_000,
      }),
    async upstream() {
      const text = await lab.upstreamText();
      return [...text.matchAll(/server\s+(\S+?)(?:\s+weight=\d+)?;/g)].map((m) => m[1]!);
    },
    upstreamText: () => readFile(nginx.upstreamFile, 'utf8'),
    async calls() {
      const text = await readFile(join(dir, 'calls.jsonl'), 'utf8');
      return text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    },
    async stop() {
      await lab.load.stop();
      for (const file of (await readdir(dir)).filter((f) => f.endsWith('.pid'))) {
        try {
          process.kill(Number(await readFile(join(dir, file), 'utf8')), 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await Promise.all([nginx.stop(), github.stop()]);
    },
  };
  return lab;
}

/** The states a deployment went through, oldest first. */
export const statesOf = (github: GitHubDouble, artifact: string, environment?: string) =>
  github.deploymentOf(artifact, environment).statuses.map((s) => s.state);
