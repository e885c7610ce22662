import { execFile } from 'node:child_process';
import { parse as parseShellWords } from 'shell-quote';
import { z } from 'zod';

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

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Written to the command's stdin, e.g. a password for `--password-stdin`, never to argv. */
  input?: string;
}

/** Runs argv without a shell. Resolves with the exit code; rejects only when it cannot start. */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file!,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code === 'string') {
          reject(new Error(`could not run "${file}": ${error.code === 'ENOENT' ? 'not found on PATH' : error.message}`));
          return;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs argv and throws with the command's own words when it exits non-zero. */
export async function runChecked(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await runCommand(argv, options);
  if (result.code !== 0) {
    const said = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`"${argv.join(' ')}" exited ${result.code}${said ? `: ${said}` : ''}`);
  }
  return result.stdout;
}
