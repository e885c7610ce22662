/** Where this run happens, from the variables a runner sets; read once, before any side effect. */
export interface RunContext {
  owner: string;
  repo: string;
  sha: string;
  apiUrl: string;
  /** The run's page, for `log_url`. */
  runUrl: string;
}

export function runContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const missing = ['GITHUB_REPOSITORY', 'GITHUB_SHA', 'GITHUB_RUN_ID'].filter((name) => !env[name]);
  if (missing.length) throw new Error(`${missing.join(', ')} not set: this action runs inside a GitHub Actions job`);
  const [owner, repo] = env.GITHUB_REPOSITORY!.split('/');
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/$/, '');
  const attempt = env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '';
  return {
    owner: owner!,
    repo: repo!,
    sha: env.GITHUB_SHA!,
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/$/, ''),
    runUrl: `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}${attempt}`,
  };
}
