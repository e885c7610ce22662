import { afterAll, describe, expect, it } from 'vitest';
import { cancelled, cancelOnSignals } from '../../src/core/cancel.ts';
import { send, WRAP_UP_MS } from '../../src/core/http.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createGitHubClient } from '../../src/github/client.ts';
import { silent, startHostile, stopHostile } from '../support/hostile.ts';

/**
 * The run's cancellation (this file cancels it for good, so it has a file of its own): a call in
 * flight ends at once, and a call made afterwards (the step recording how it ended) gets at most
 * WRAP_UP_MS, however long its own deadline.
 */
afterAll(stopHostile);

describe('after SIGTERM', () => {
  it('ends calls in flight at once, and gives later ones the wrap-up budget', async () => {
    const server = await startHostile(silent);
    const octokit = await createGitHubClient('ghs_test', server.url, silentLogger, { timeoutMs: 60_000 })();
    cancelOnSignals(() => {});
    const inFlight = send(`${server.url}/registry`, { timeoutMs: 60_000 });
    const github = octokit.rest.repos.listDeployments({ owner: 'acme', repo: 'app' });
    await server.received(2);
    const signalled = performance.now();
    process.emit('SIGTERM', 'SIGTERM');
    expect(cancelled.aborted).toBe(true);
    await expect(inFlight).rejects.toThrow('the run was cancelled (SIGTERM)');
    await expect(github).rejects.toThrow('the run was cancelled (SIGTERM)');
    expect(performance.now() - signalled).toBeLessThan(500);

    const started = performance.now();
    await expect(
      octokit.rest.repos.createDeploymentStatus({ owner: 'acme', repo: 'app', deployment_id: 1, state: 'failure' }),
    ).rejects.toThrow('GitHub POST /repos/acme/app/deployments/1/statuses was not done within 5s of the cancellation');
    const took = performance.now() - started;
    expect(took).toBeGreaterThan(WRAP_UP_MS - 100);
    expect(took).toBeLessThan(WRAP_UP_MS + 1500);
  }, 20_000);
});
