import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseShellWords } from 'shell-quote';
import { z } from 'zod';
import { formatDuration } from './durations.ts';
import { logText } from './untrusted.ts';

/**
 * A command the user gives us (reload, test, run). It is split into argv once, here, and always
 * executed without a shell: anything a shell would interpret (pipes, `;`, `$VAR`, globs,
 * redirections) is refused instead of being passed on literally, so the user learns at once.
 */
export const commandSchema = z.union([z.string(), z.array(z.union([z.string(), z.number()]))]).transform((value, ctx) => {
  if (Array.isArray(value)) {
    const argv = value.map(String);
    if (argv.length === 0 || argv[0] === '') {
      ctx.addIssue({ code: 'custom', message: 'the command list is empty' });
      return z.NEVER;
    }
    return argv;
  }
  if (/[$`\n\r]/.test(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" contains shell syntax ($, \` or a newline); commands run without a shell` });
    return z.NEVER;
  }
  const words = parseShellWords(value);
  const operator = words.find((w) => typeof w !== 'string');
  if (operator !== undefined) {
    const shown = 'op' in operator ? (operator.op === 'glob' ? (operator as { pattern: string }).pattern : operator.op) : 'comment';
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" contains shell syntax (${shown}); commands run without a shell, give one plain command`,
    });
    return z.NEVER;
  }
  const argv = words as string[];
  if (argv.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'the command is empty' });
    return z.NEVER;
  }
  return argv;
});

/**
 * `env: [DEPLOY_KEY, AWS_PROFILE]` in a router or target mapping: variables of the step's
 * environment the user hands to its commands on purpose, credentials included. Nothing else
 * beyond the runner's ordinary variables reaches a command (see `commandEnv`).
 */
export const passEnvSchema = z
  .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env lists variable names, e.g. [DEPLOY_KEY]'))
  .default([]);

/**
 * The runner's ordinary variables, which every command gets: where programs and files are, the
 * locale, the proxy, the CA bundle, and the run's description (GITHUB_* and RUNNER_*).
 */
const ORDINARY = [
  /^(PATH|HOME|USER|LOGNAME|SHELL|HOSTNAME|TERM|TZ|LANG|LANGUAGE|TMPDIR|TEMP|TMP|CI|PWD)$/,
  /^LC_[A-Z]+$/,
  /^(https?_proxy|no_proxy|all_proxy|HTTPS?_PROXY|NO_PROXY|ALL_PROXY)$/,
  /^(SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS)$/,
  /^XDG_[A-Z_]+$/,
  /^(GITHUB|RUNNER)_[A-Z0-9_]+$/,
];
/**
 * Never passed unless named: anything that looks like a credential, and the step's own file
 * commands (a command writing to GITHUB_OUTPUT or GITHUB_STATE would rewrite this step's outputs
 * or its post step's state; GITHUB_ENV and GITHUB_PATH would reach every later step).
 */
const WITHHELD = [
  /TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE|(^|_)(API_?)?KEY($|_)|(^|_)AUTH/i,
  /^GITHUB_(OUTPUT|STATE|ENV|PATH|STEP_SUMMARY)$/,
];

/**
 * The environment a command runs with: the runner's ordinary variables, minus anything carrying a
 * credential (INPUT_* never: the action's inputs hold tokens and passwords), plus the variables
 * the user named in `passEnv`, plus `extra` (the documented SHIPGATE_* values).
 */
export function commandEnv(
  passEnv: readonly string[] = [],
  extra: Record<string, string> = {},
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined) continue;
    if (ORDINARY.some((p) => p.test(name)) && !WITHHELD.some((p) => p.test(name))) env[name] = value;
  }
  for (const name of passEnv) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

export interface CommandResult {
  /** The exit code; 128 + the signal's number when a signal ended it, as a shell reports it. */
  code: number;
  /** The signal that ended the command, when one did. */
  signal?: NodeJS.Signals;
  /** The command ran past its timeout and was stopped (then `code` is never 0, whatever it exited with). */
  timedOut?: boolean;
  /** The run was cancelled while the command ran, and it was stopped. */
  aborted?: boolean;
  /** It ignored SIGTERM and was killed with SIGKILL after the grace. */
  killed?: boolean;
  /** The last TAIL bytes of what it wrote, for messages; the whole output went to the log. */
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The documented SHIPGATE_* values for this command, added to its clean environment. */
  env?: Record<string, string>;
  /** Names of the step's variables the user chose to hand on (`env:` in the mapping). */
  passEnv?: readonly string[];
  timeoutMs?: number;
  /** After SIGTERM, how long the command's process group has before SIGKILL. */
  graceMs?: number;
  /** Stops the command (SIGTERM, then SIGKILL) when aborted, e.g. the run's cancellation. */
  signal?: AbortSignal;
  /** Written to the command's stdin, e.g. a password for `--password-stdin`, never to argv. */
  input?: string;
  /** Keep the output out of the log: for Shipgate's own probes (`git log`, `docker version`). */
  quiet?: boolean;
  /** Where streamed output goes; the action's stdout, which the runner reads as the log. */
  write?: (text: string) => void;
}

const TAIL = 64 * 1024;
const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_GRACE = 5_000;
/** After the command exits, how long output still in its pipes may take to arrive. */
const DRAIN_MS = 200;

/** Keeps the last TAIL bytes written to it. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= TAIL) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - TAIL)).toString('utf8');
  }
}

/**
 * Runs argv without a shell, and resolves once the command has exited; rejects only when it
 * cannot start.
 *
 * - Environment: `commandEnv(passEnv, env)`, never the action's whole environment.
 * - Output streams to the log as it comes, between `::stop-commands::<random token>` and
 *   `::<token>::`, so nothing the command prints can run a workflow command (a line of ours
 *   logged meanwhile is shown as text too). Only a bounded tail is kept, for messages.
 * - Timeout and cancellation: SIGTERM to the command's whole process group, SIGKILL after
 *   `graceMs`; the result says `timedOut`/`aborted` and its code is never 0.
 * - The step waits for the command, not for what it left behind: a background child it started
 *   (`server &`) may keep running and keep the pipes open; it is not signalled, its later output
 *   is read and dropped while this process lives, and after that nothing reads it (a daemon
 *   should send its output elsewhere).
 */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
  const graceMs = options.graceMs ?? DEFAULT_GRACE;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const groups = process.platform !== 'win32';
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, {
      env: commandEnv(options.passEnv, options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // Its own process group, so a stop reaches everything the command started.
      detached: groups,
    });
    const stdout = new Tail();
    const stderr = new Tail();
    const token = randomBytes(16).toString('hex');
    let logging = !options.quiet;
    if (logging) write(`[command]${argv.map((a) => logText(a, 200)).join(' ')}\n`);
    let opened = false;
    let lastNewline = true;
    // One decoder a stream, so a character split between two chunks is not mangled.
    const show = (decoder: StringDecoder) => (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (!logging || text.length === 0) return;
      if (!opened) {
        write(`::stop-commands::${token}\n`);
        opened = true;
      }
      write(text);
      lastNewline = text.endsWith('\n');
    };
    const showOut = show(new StringDecoder('utf8'));
    const showErr = show(new StringDecoder('utf8'));
    child.stdout!.on('data', (chunk: Buffer) => (stdout.push(chunk), showOut(chunk)));
    child.stderr!.on('data', (chunk: Buffer) => (stderr.push(chunk), showErr(chunk)));

    let stopping: 'timedOut' | 'aborted' | undefined;
    let killed = false;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (groups && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    const stop = (why: 'timedOut' | 'aborted') => {
      if (stopping || child.exitCode !== null || child.signalCode !== null) return;
      stopping = why;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => {
        killed = true;
        signalGroup('SIGKILL');
      }, graceMs);
    };
    const timer = setTimeout(() => stop('timedOut'), timeoutMs);
    const onAbort = () => stop('aborted');
    if (options.signal?.aborted) queueMicrotask(onAbort);
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`could not run "${logText(file!)}": ${error.code === 'ENOENT' ? 'not found on PATH' : error.message}`));
    });
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        // Members of the group that outlive a stopped command still get SIGKILL after the grace.
        if (stopping) killTimer?.unref();
        else clearTimeout(killTimer);
        // A background child may hold the pipes open: keep draining them without holding the
        // process open, and show nothing more, since the stop-commands block is closed.
        logging = false;
        for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
        if (opened) write(`${lastNewline ? '' : '\n'}::${token}::\n`);
        const code = exitCode ?? 128 + (constants.signals[signal!] ?? 0);
        resolve({
          code: stopping && code === 0 ? 1 : code,
          ...(signal ? { signal } : {}),
          ...(stopping === 'timedOut' ? { timedOut: true } : {}),
          ...(stopping === 'aborted' ? { aborted: true } : {}),
          ...(killed ? { killed: true } : {}),
          stdout: stdout.text(),
          stderr: stderr.text(),
        });
      };
      // Output written just before the exit may still be in the pipes: wait for them to close,
      // but not for a background child that keeps them open.
      let pending = 2;
      const drained = setTimeout(finish, DRAIN_MS);
      const closed = () => {
        if (--pending === 0) {
          clearTimeout(drained);
          finish();
        }
      };
      for (const stream of [child.stdout!, child.stderr!]) {
        if (stream.readableEnded || stream.destroyed) closed();
        else stream.once('end', closed);
      }
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** How a command that did not succeed ended, for messages. */
export function describeEnd(result: CommandResult, options: Pick<RunOptions, 'timeoutMs' | 'graceMs'> = {}): string {
  const grace = formatDuration(options.graceMs ?? DEFAULT_GRACE);
  const stoppedBy = result.killed ? `it ignored SIGTERM and was killed after ${grace}` : 'stopped with SIGTERM';
  if (result.timedOut) return `timed out after ${formatDuration(options.timeoutMs ?? DEFAULT_TIMEOUT)} (${stoppedBy})`;
  if (result.aborted) return `was stopped because the run was cancelled (${stoppedBy})`;
  if (result.signal) return `was ended by ${result.signal}`;
  return `exited ${result.code}`;
}

/** Runs argv and throws with the command's own words unless it exits 0 within its time. */
export async function runChecked(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await runCommand(argv, options);
  if (result.code !== 0) {
    const said = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`"${logText(argv.join(' '))}" ${describeEnd(result, options)}${said ? `: ${logText(said)}` : ''}`);
  }
  return result.stdout;
}
