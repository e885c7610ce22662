import { withPermission, type GitHubClient } from './client.ts';
import type { RunContext } from './context.ts';

/** Files an issue and returns its web address. */
export async function openIssue(
  octokit: GitHubClient,
  context: RunContext,
  title: string,
  body: string,
  labels: string[],
): Promise<string> {
  const response = await withPermission('issues: write', 'open an issue', async () =>
    (await octokit()).rest.issues.create({ owner: context.owner, repo: context.repo, title, body, labels }),
  );
  return response.data.html_url;
}
