import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { createGitHubClient, GitHubError, withPermission } from '../../src/github/client.ts';
import { answer, type Handler, silent, startHostile, stopHostile } from '../support/hostile.ts';

/** The GitHub client against small local stand-ins: what each failure becomes, and what is retried. */
afterAll(stopHostile);

const client = async (handler: Handler, options: Parameters<typeof createGitHubClient>[3] = {}) => {
  const server = await startHostile(handler);
  return { server, octokit: await createGitHubClient('ghs_test', server.url, silentLogger, options)() };
};
const list = (octokit: Awaited<ReturnType<typeof client>>['octokit']) =>
  octokit.rest.repos.listDeployments({ owner: 'acme', repo: 'app', environment: 'production' });
const json = { 'content-type': 'application/json; charset=utf-8' };

describe('createGitHubClient', () => {
  it('tells a refused token (401) from a missing permission (403)', async () => {
    const refused = await client(answer(401, json, '{"message":"Bad credentials"}'));
    await expect(list(refused.octokit)).rejects.toThrow(
      'GitHub refused the token for GET /repos/acme/app/deployments (401: Bad credentials): it is missing, invalid or expired',
    );
    const forbidden = await client(answer(403, json, '{"message":"Resource not accessible by integration"}'));
    const call = withPermission('deployments: write', 'list the deployments', () => list(forbidden.octokit));
    await expect(call).rejects.toThrow(
      'GitHub refused to list the deployments (403: Resource not accessible by integration). The token needs "deployments: write"',
    );
    // Neither is worth a retry.
    expect([refused.server.seen.length, forbidden.server.seen.length]).toEqual([1, 1]);
  });

  it('retries a 5xx twice, then fails with GitHub’s words made log-safe', async () => {
    const { server, octokit } = await client(answer(502, json, '{"message":"Bad gateway\\n::error::spoofed"}'));
    const started = performance.now();
    const error = await list(octokit).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({
      status: 502,
      message: 'GitHub answered 502 to GET /repos/acme/app/deployments: Bad gateway\\n::error::spoofed',
    });
    expect(server.seen).toHaveLength(3);
    expect(performance.now() - started).toBeLessThan(8000);
  }, 15_000);

  it('asks a silent GitHub once more for a GET, never for a POST (it may have acted on it)', async () => {
    const get = await client(silent, { timeoutMs: 300 });
    await expect(list(get.octokit)).rejects.toThrow(`GitHub GET ${get.server.url}/repos/acme/app/deployments gave no answer within 300ms`);
    expect(get.server.seen).toHaveLength(2);
    const post = await client(silent, { timeoutMs: 300 });
    await expect(
      post.octokit.rest.repos.createDeployment({ owner: 'acme', repo: 'app', ref: 'main', environment: 'production' }),
    ).rejects.toThrow('gave no answer within 300ms');
    expect(post.server.seen).toHaveLength(1);
  });
});
