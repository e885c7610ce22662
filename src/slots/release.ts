/**
 * What a slot holds: an artifact (`name@digest` from build-push, or any version string) and the
 * version people call it by. Both reach argv, URLs, nginx comments, HAProxy variables, logs and
 * summaries, so each is one word with no braces, quotes, `%`, `;`, `#` or white space: these
 * patterns are checked on inputs and on every record read back from GitHub or a router alike.
 */
export const ARTIFACT = /^[A-Za-z0-9][A-Za-z0-9_.:@/+-]{0,255}$/;
export const VERSION = /^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,127}$/;
const DIGEST = /@(sha256:[a-f0-9]{64})$/;
/** The tag of `name:tag` or `name:tag@digest` (a `:` after the last `/`, so a registry port is not one). */
const TAG = /:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(?:@sha256:[a-f0-9]{64})?$/;

export interface Release {
  artifact: string;
  version: string;
}

/** `sha256:4f1c2a…`: enough of a digest to tell releases apart at a glance. */
export function shortDigest(digest: string): string {
  return `${digest.slice(0, 'sha256:'.length + 6)}…`;
}

/**
 * What people call the release: the given version, else the tag of `name:tag@digest`, else the
 * artifact itself when it is a plain version (`v1.4.2`), else the short digest.
 */
export function versionOf(artifact: string, given?: string): string {
  if (given) return given;
  const name = artifact.replace(DIGEST, '');
  const tag = name.lastIndexOf(':') > name.lastIndexOf('/') ? TAG.exec(artifact)?.[1] : undefined;
  if (tag) return tag;
  const digest = DIGEST.exec(artifact)?.[1];
  if (digest) return digest.slice(0, 'sha256:'.length + 6);
  if (!/[/:@]/.test(artifact)) return artifact;
  return (
    artifact
      .split('/')
      .pop()!
      .replace(/[^A-Za-z0-9_.+-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 128) || 'unnamed'
  );
}

/** "v3 (sha256:4f1c2a…)" when the artifact is pinned by digest, else the version, with the artifact when it says more. */
export function describeRelease(release: Release): string {
  const digest = DIGEST.exec(release.artifact)?.[1];
  if (digest) return release.version.startsWith('sha256:') ? shortDigest(digest) : `${release.version} (${shortDigest(digest)})`;
  return release.version === release.artifact ? release.version : `${release.version} (${release.artifact})`;
}
