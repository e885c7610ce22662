import { afterAll, describe, expect, it } from 'vitest';
import { type Logger, silentLogger } from '../../src/core/logger.ts';
import { closeSavedDeployment, saveDeployment } from '../../src/github/saved-deployment.ts';
import { answer, silent, startHostile, stopHostile } from '../support/hostile.ts';

/** The post steps' last word on a deployment main left open: what reaches GitHub, and what never does. */
afterAll(stopHostile);

const warnings: string[] = [];
const logger: Logger = { ...silentLogger, warning: (m) => void warnings.push(m) };
const context = (apiUrl: string) => ({
  owner: 'acme',
  repo: 'app',
  sha: 'abc123',
  apiUrl,
  runUrl: 'https://github.com/acme/app/actions/runs/1',
});

describe('closeSavedDeployment', () => {
  it('posts the closing status to the saved deployment, with the run as its log', async () => {
    const github = await startHostile(answer(201, { 'content-type': 'application/json' }, '{"id":1}'));
    await closeSavedDeployment(saveDeployment({ id: 42, context: context(github.url) }), 'ghs_x', 'failure', 'did not finish', logger);
    expect(github.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /repos/acme/app/deployments/42/statuses']);
  });

  it('sends nothing for a state that does not read back as a deployment, and says so', async () => {
    const github = await startHostile(answer(201, { 'content-type': 'application/json' }, '{"id":1}'));
    warnings.length = 0;
    for (const text of ['not json', JSON.stringify({ id: -1, context: context(github.url) }), JSON.stringify({ id: 7 })]) {
      await closeSavedDeployment(text, 'ghs_x', 'error', 'did not finish', logger);
    }
    expect(github.seen).toEqual([]);
    expect(warnings).toHaveLength(3);
  });

  it('turns a GitHub that does not answer into a warning within its deadline: traffic is already safe', async () => {
    const github = await startHostile(silent);
    warnings.length = 0;
    await closeSavedDeployment(saveDeployment({ id: 42, context: context(github.url) }), 'ghs_x', 'error', 'x', logger);
    expect(warnings).toEqual([
      expect.stringMatching(/^Could not mark deployment 42 error: GitHub POST .* did not finish within the time the step gives it$/),
    ]);
  }, 30_000);
});
