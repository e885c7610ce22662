import * as core from './runner.ts';
import { cancelled, cancelOnSignals } from './cancel.ts';
import { ConfigurationError, errorMessage } from './errors.ts';
import type { Logger } from './logger.ts';
import { neutralizeCommands } from './untrusted.ts';

/**
 * The Logger seam bound to the runner's workflow commands. `info` lines are plain text the runner
 * would still parse for `::commands::`, so none may start one; warnings, debug lines and group
 * names travel as command data, which runner.ts escapes.
 */
export const coreLogger: Logger = {
  info: (m) => core.info(neutralizeCommands(m)),
  warning: (m) => core.warning(m),
  debug: (m) => core.debug(m),
  group: (name, fn) => core.group(name, fn),
};

/**
 * Runs an action's main or post. A user's mistake becomes exactly one `::error::` line; anything
 * else is reported the same way and keeps its stack in the debug log for us. SIGINT and SIGTERM
 * abort `cancelled` (src/core/cancel.ts), which every wait and network call of the step listens to.
 */
export async function runAction(main: () => Promise<void>, onCancel: string): Promise<void> {
  cancelOnSignals((signal) => core.warning(`Received ${signal}: ${onCancel}`));
  try {
    await main();
  } catch (error) {
    if (!(error instanceof ConfigurationError) && error instanceof Error && error.stack) core.debug(error.stack);
    core.setFailed(errorMessage(error));
  }
  // A cancelled step has done what it could; a timer some library still holds (Octokit's retry
  // scheduler waiting out a rate limit) must not keep the process alive until the runner kills it.
  if (cancelled.aborted) process.exit();
}

/** Reads a boolean input strictly: only true or false (any case), with a message naming the input. */
export function booleanInput(name: string, fallback: boolean): boolean {
  const raw = core.getInput(name).trim().toLowerCase();
  if (raw === '') return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigurationError(name, `"${raw}" is not true or false`, `${name}: ${fallback}`);
}
