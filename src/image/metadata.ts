import { readFileSync } from 'node:fs';
import { errorMessage } from '../core/errors.ts';
import { parseJson } from '../core/http.ts';
import type { Logger } from '../core/logger.ts';
import { rfc3339 } from './source-date.ts';

/** What the GitHub context says about the commit being built; every field may be absent off Actions. */
export interface SourceContext {
  sha?: string;
  /** `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/7/merge`… */
  ref?: string;
  defaultBranch?: string;
  /** `https://github.com/acme/api` */
  repositoryUrl?: string;
  /** `api` */
  repositoryName?: string;
}

/**
 * The commit being built, from what the runner gives every step: GITHUB_SHA, GITHUB_REF,
 * GITHUB_REPOSITORY, GITHUB_SERVER_URL, and the event payload at GITHUB_EVENT_PATH for the default
 * branch. Read here rather than through @actions/github, which would bring a second Octokit and
 * HTTP stack into the bundle for these few variables. Empty off Actions.
 */
export function sourceContext(env: NodeJS.ProcessEnv, logger: Logger): SourceContext {
  const repository = env.GITHUB_REPOSITORY;
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/$/, '');
  const defaultBranch = eventDefaultBranch(env.GITHUB_EVENT_PATH, logger);
  return {
    ...(env.GITHUB_SHA ? { sha: env.GITHUB_SHA } : {}),
    ...(env.GITHUB_REF ? { ref: env.GITHUB_REF } : {}),
    ...(defaultBranch ? { defaultBranch } : {}),
    ...(repository ? { repositoryUrl: `${server}/${repository}`, repositoryName: repository.split('/')[1] } : {}),
  };
}

/** `repository.default_branch` of the event payload; without it there is simply no `latest` tag. */
function eventDefaultBranch(path: string | undefined, logger: Logger): string | undefined {
  if (!path) return undefined;
  try {
    const event = parseJson(readFileSync(path, 'utf8'), `The event payload ${path}`, 'the workflow event') as {
      repository?: { default_branch?: unknown };
    } | null;
    const branch = event?.repository?.default_branch;
    return typeof branch === 'string' && branch ? branch : undefined;
  } catch (error) {
    logger.warning(`${errorMessage(error)}: the default branch is unknown, so no "latest" tag is derived.`);
    return undefined;
  }
}

/** On/off switches for each kind of derived tag, as docker/metadata-action's flavor and tag types. */
export interface TagSwitches {
  sha: boolean;
  'sha-long': boolean;
  branch: boolean;
  semver: boolean;
  latest: boolean;
}

export const DEFAULT_SWITCHES: TagSwitches = { sha: true, 'sha-long': false, branch: true, semver: true, latest: true };

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** A branch name made into a tag: `feature/login` → `feature-login`, as metadata-action does. */
export function sanitizeTag(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
}

function branchOf(ref: string | undefined): string | undefined {
  return ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

/** `1.2.3` plus `1.2` and `1` for a release; only the full version for a pre-release. */
export function semverTags(ref: string | undefined): string[] {
  if (!ref?.startsWith('refs/tags/')) return [];
  const match = SEMVER.exec(ref.slice('refs/tags/'.length));
  if (!match) return [];
  const [, major, minor, patch, pre] = match;
  if (pre) return [`${major}.${minor}.${patch}-${pre}`];
  return [`${major}.${minor}.${patch}`, `${major}.${minor}`, major!];
}

export function derivedTags(source: SourceContext, switches: TagSwitches): string[] {
  const tags: string[] = [];
  if (source.sha && switches.sha) tags.push(`sha-${source.sha.slice(0, 7)}`);
  if (source.sha && switches['sha-long']) tags.push(`sha-${source.sha}`);
  const branch = branchOf(source.ref);
  if (branch && switches.branch) tags.push(sanitizeTag(branch));
  if (switches.semver) tags.push(...semverTags(source.ref));
  if (branch && switches.latest && branch === source.defaultBranch) tags.push('latest');
  return tags;
}

/** Explicit tags first, then derived ones, each once. */
export function allTags(explicit: string[], source: SourceContext, switches: TagSwitches): string[] {
  return [...new Set([...explicit, ...derivedTags(source, switches)])];
}

/** The version an image says it is: the release, else the first tag, else the commit. */
export function versionOf(source: SourceContext, tags: string[]): string | undefined {
  return semverTags(source.ref)[0] ?? tags[0] ?? source.sha?.slice(0, 7);
}

/** org.opencontainers.image.* labels from the source context; the user's labels go over these. */
export function ociLabels(source: SourceContext, created: Date, version: string | undefined): Record<string, string> {
  const labels: Record<string, string> = { 'org.opencontainers.image.created': rfc3339(created) };
  if (source.repositoryUrl) labels['org.opencontainers.image.source'] = source.repositoryUrl;
  if (source.sha) labels['org.opencontainers.image.revision'] = source.sha;
  if (version) labels['org.opencontainers.image.version'] = version;
  if (source.repositoryName) labels['org.opencontainers.image.title'] = source.repositoryName;
  return labels;
}
