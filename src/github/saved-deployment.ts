import { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import { errorMessage } from '../core/errors.ts';
import { createGitHubClient } from './client.ts';
import type { RunContext } from './context.ts';
import { Deployments, type DeploymentState } from './deployments.ts';

/** The deployment a main step leaves for its post step to settle, saved in the step's state. */
export interface SavedDeployment {
  id: number;
  context: RunContext;
}

const savedSchema = z.object({
  id: z.number().int().positive(),
  context: z.object({
    owner: z.string().min(1),
    repo: z.string().min(1),
    sha: z.string().min(1),
    apiUrl: z.url(),
    runUrl: z.string(),
  }),
});

export const saveDeployment = (saved: SavedDeployment): string => JSON.stringify(saved);

/**
 * The post step's last word on the deployment main left open, within 20 s. Traffic is already on
 * the safe side when this runs, so a GitHub failure (or a state that does not parse) is a warning.
 */
export async function closeSavedDeployment(
  savedText: string,
  token: string,
  state: DeploymentState,
  description: string,
  logger: Logger,
): Promise<void> {
  let parsed: SavedDeployment;
  try {
    parsed = savedSchema.parse(JSON.parse(savedText));
  } catch {
    logger.warning('The saved deployment could not be read back; its status is left as main left it.');
    return;
  }
  const { id, context } = parsed;
  const github = new Deployments(createGitHubClient(token, context.apiUrl, logger), context, logger);
  await github
    .setStatus(id, state, description, undefined, { signal: AbortSignal.timeout(20_000) })
    .catch((error: unknown) => logger.warning(`Could not mark deployment ${id} ${state}: ${errorMessage(error)}`));
}
