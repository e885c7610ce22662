import { isLoopbackHost } from '../core/http.ts';

/**
 * Image references as Docker reads them: `[registry/]repository[:tag][@digest]`. The first path
 * component is a registry when it holds a `.` or `:`, or is `localhost`; otherwise the image is on
 * Docker Hub, whose one-word names live under `library/`.
 */
export interface ImageReference {
  /** As written by the user, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/;

export const DOCKER_HUB = 'docker.io';

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return DIGEST.test(digest);
}

/** Parses a reference; the error says what is wrong with it, for the caller to wrap. */
export function parseReference(text: string): ImageReference {
  let rest = text.trim();
  if (rest === '') throw new Error('the image reference is empty');
  if (/\s/.test(rest)) throw new Error(`"${text}" contains white space`);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new Error(`"${digest}" is not a digest (sha256: and 64 lowercase hex digits)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw new Error(`"${tag}" is not a valid tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) throw new Error(`"${registry}" is not a registry host[:port]`);
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new Error(
        `"${part}" is not a valid repository path component (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }
  const repository = parts.join('/');
  if (repository.length > 255) throw new Error('the repository name is longer than 255 characters');
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `registry/repository` without tag or digest, as users write it. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Loopback registries are spoken to over plain HTTP, as Docker does. */
export function isLoopback(registry: string): boolean {
  return isLoopbackHost(registry.replace(/:\d+$/, ''));
}

/** Where the API lives: Docker Hub's is not at the name users write. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}
