import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { EOL } from 'node:os';

/**
 * The runner's protocol, as the actions speak it: inputs from INPUT_*, state from STATE_*, outputs
 * and state through the GITHUB_OUTPUT / GITHUB_STATE files, the log's workflow commands, the job
 * summary file. The same names and behaviour as @actions/core's functions of the same name; we keep
 * this small module instead because @actions/core also loads its OIDC client, and with it
 * @actions/http-client and a second undici, into every bundle: about a megabyte each bundle parses
 * at start, for a feature no Shipgate action uses.
 */

export interface InputOptions {
  required?: boolean;
  trimWhitespace?: boolean;
}

/** An input as the runner passes it: INPUT_<NAME>, spaces as underscores, upper case. */
export function getInput(name: string, options: InputOptions = {}): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '';
  if (options.required && !value) throw new Error(`Input required and not supplied: ${name}`);
  return options.trimWhitespace === false ? value : value.trim();
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? '';
}

function commandValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Escapes a workflow command's data, as the runner unescapes it. */
function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function issue(command: string, message = ''): void {
  process.stdout.write(`::${command}::${escapeData(message)}${EOL}`);
}

/** `key<<delimiter` … `delimiter` into a file command, with a delimiter the value cannot contain. */
function fileCommand(variable: 'GITHUB_OUTPUT' | 'GITHUB_STATE', legacy: string, key: string, value: unknown): void {
  const text = commandValue(value);
  const file = process.env[variable];
  if (!file) {
    process.stdout.write(EOL);
    process.stdout.write(
      `::${legacy} name=${key.replace(/%/g, '%25').replace(/:/g, '%3A').replace(/,/g, '%2C')}::${escapeData(text)}${EOL}`,
    );
    return;
  }
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (key.includes(delimiter) || text.includes(delimiter)) throw new Error(`${key} contains the delimiter ${delimiter}`);
  appendFileSync(file, `${key}<<${delimiter}${EOL}${text}${EOL}${delimiter}${EOL}`, 'utf8');
}

export function setOutput(name: string, value: unknown): void {
  fileCommand('GITHUB_OUTPUT', 'set-output', name, value);
}

export function saveState(name: string, value: unknown): void {
  fileCommand('GITHUB_STATE', 'save-state', name, value);
}

/** The runner masks this value in every later line of the log. */
export function setSecret(secret: string): void {
  issue('add-mask', secret);
}

/** A plain log line; it is the caller's to keep free of `::` commands (see untrusted.ts). */
export function info(message: string): void {
  process.stdout.write(message + EOL);
}

export function debug(message: string): void {
  issue('debug', message);
}

export function warning(message: string | Error): void {
  issue('warning', message instanceof Error ? message.toString() : message);
}

export function error(message: string | Error): void {
  issue('error', message instanceof Error ? message.toString() : message);
}

/** One `::error::` line, and the step fails when the process exits. */
export function setFailed(message: string | Error): void {
  process.exitCode = 1;
  error(message);
}

/** A foldable group in the log around `fn`, closed however it ends. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  issue('group', name);
  try {
    return await fn();
  } finally {
    issue('endgroup');
  }
}

/** The job summary: Markdown appended to GITHUB_STEP_SUMMARY. */
class Summary {
  private buffer = '';

  addRaw(text: string, addEOL = false): this {
    this.buffer += addEOL ? text + EOL : text;
    return this;
  }

  async write(): Promise<this> {
    const file = process.env.GITHUB_STEP_SUMMARY;
    if (!file)
      throw new Error(
        'Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.',
      );
    await appendFile(file, this.buffer, 'utf8');
    this.buffer = '';
    return this;
  }
}

export const summary = new Summary();
