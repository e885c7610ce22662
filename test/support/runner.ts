import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Actions run on node24; the devDependency `node` ships that binary whatever Node runs the tests. */
export const node24 = join(repoRoot, 'node_modules/node/bin/node');

export interface StepResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  outputs: Record<string, string>;
  /** What the runner would hand the post step as STATE_*. */
  state: Record<string, string>;
  summary: string;
  /** The messages of `::error::` lines. */
  errors: string[];
  /** The messages of `::warning::` lines. */
  warnings: string[];
  durationMs: number;
}

export interface StepOptions {
  inputs?: Record<string, string>;
  state?: Record<string, string>;
  env?: Record<string, string>;
  /** Cancel like the runner: SIGINT at this many ms, SIGTERM 7.5 s later, SIGKILL 2.5 s after that. */
  cancelAfterMs?: number;
  /** Kill with SIGKILL at this many ms, as a runner that lost its machine would. */
  killAfterMs?: number;
  timeoutMs?: number;
  /** Called once the process is running, e.g. to watch traffic. */
  onStdout?: (chunk: string) => void;
  /** Called with the process once it is spawned, e.g. to signal it when a hostile server got its request. */
  onSpawn?: (child: ChildProcess) => void;
}

/** Reads a file-command file (GITHUB_OUTPUT, GITHUB_STATE) as the runner does: `k=v` or heredoc. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, key, delimiter] = heredoc;
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== delimiter) body.push(lines[i]!);
      values[key!] = body.join('\n');
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return values;
}

/** Undoes the escaping @actions/core applies to workflow-command data, as the runner does. */
function unescapeCommandData(data: string): string {
  return data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** The lines the runner reads as commands: none between `::stop-commands::TOKEN` and `::TOKEN::`. */
function commandLines(stdout: string): string[] {
  const lines: string[] = [];
  let resume: string | undefined;
  for (const line of stdout.split('\n')) {
    if (resume !== undefined) {
      if (line === resume) resume = undefined;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) resume = `::${stop[1]}::`;
    else lines.push(line);
  }
  return lines;
}

function commandMessages(stdout: string, command: string): string[] {
  const prefix = new RegExp(`^::${command}[^:]*::`);
  return commandLines(stdout)
    .filter((line) => prefix.test(line))
    .map((line) => unescapeCommandData(line.replace(prefix, '')));
}

/** The job's token as the runner would put it in for `${{ github.token }}`; no GitHub here takes it. */
const JOB_TOKEN = 'ghs_jobtoken000000000000000000000000000';

/** Input defaults from the action's action.yml, as the runner fills them in (expressions evaluated). */
async function defaultInputs(action: string): Promise<Record<string, string>> {
  const metadata = parse(await readFile(join(repoRoot, 'actions', action, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, { default?: string }>;
  };
  return Object.fromEntries(
    Object.entries(metadata.inputs ?? {})
      .filter(([, spec]) => spec.default !== undefined)
      .map(([name, spec]) => [name, String(spec.default).replace(/\$\{\{\s*github\.token\s*\}\}/g, JOB_TOKEN)]),
  );
}

/**
 * Runs `dist/<action>/<entry>/index.js` on Node 24 the way a runner does: INPUT_* variables (with
 * action.yml defaults), GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files, STATE_* for post.
 */
export async function runStep(action: string, entry: 'main' | 'post', options: StepOptions = {}): Promise<StepResult> {
  const dir = await mkdtemp(join(tmpdir(), `shipgate-${action}-${entry}-`));
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STATE: join(dir, 'state'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
  const inputs = { ...(await defaultInputs(action)), ...options.inputs };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    RUNNER_TEMP: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: repoRoot,
    ...files,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])),
    ...Object.fromEntries(Object.entries(options.state ?? {}).map(([k, v]) => [`STATE_${k}`, v])),
    ...options.env,
  };
  const started = performance.now();
  const child = spawn(node24, [join(repoRoot, 'dist', action, entry, 'index.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  options.onSpawn?.(child);
  let stdout = '';
  const collect = (chunk: Buffer) => {
    stdout += chunk.toString();
    options.onStdout?.(chunk.toString());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timers: NodeJS.Timeout[] = [];
  if (options.cancelAfterMs !== undefined) {
    timers.push(setTimeout(() => child.kill('SIGINT'), options.cancelAfterMs));
    timers.push(setTimeout(() => child.kill('SIGTERM'), options.cancelAfterMs + 7500));
    timers.push(setTimeout(() => child.kill('SIGKILL'), options.cancelAfterMs + 10_000));
  }
  if (options.killAfterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGKILL'), options.killAfterMs));
  timers.push(setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on('close', (c, s) => done([c, s])));
  timers.forEach(clearTimeout);
  const durationMs = performance.now() - started;
  const read = (f: string) => readFile(f, 'utf8');
  return {
    code,
    signal,
    stdout,
    outputs: parseFileCommands(await read(files.GITHUB_OUTPUT)),
    state: parseFileCommands(await read(files.GITHUB_STATE)),
    summary: await read(files.GITHUB_STEP_SUMMARY),
    errors: commandMessages(stdout, 'error'),
    warnings: commandMessages(stdout, 'warning'),
    durationMs,
  };
}
