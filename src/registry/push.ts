import type { Logger } from '../core/logger.ts';
import { type BlobOutcome, type BlobSource, type RegistryClient, sha256Digest } from './client.ts';
import { remoteBlob } from './blob-sources.ts';
import { type Descriptor, parseManifest } from './media-types.ts';

/** What a push did with each blob, for the log and to prove a re-push sent nothing. */
export interface PushStats {
  exists: number;
  mounted: number;
  uploaded: number;
  uploadedBytes: number;
}

export function emptyStats(): PushStats {
  return { exists: 0, mounted: 0, uploaded: 0, uploadedBytes: 0 };
}

/** Where a blob can come from when the target lacks it: a repository of the same or another registry. */
export interface BlobOrigin {
  client: RegistryClient;
  repository: string;
}

/** Runs `work` over items, at most `limit` at a time. */
async function eachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

/**
 * Pushes blobs to `repository`, three at a time: each is skipped when present, mounted when its
 * origin is another repository of the same registry, otherwise uploaded.
 */
export async function pushBlobs(
  client: RegistryClient,
  repository: string,
  blobs: Array<{ source: BlobSource; origin?: BlobOrigin }>,
  stats: PushStats,
  logger: Logger,
): Promise<void> {
  await eachLimit(blobs, 3, async ({ source, origin }) => {
    const sameRegistry = origin && origin.client.registry === client.registry;
    const outcome: BlobOutcome = await client.pushBlob(repository, source, sameRegistry ? origin.repository : undefined);
    stats[outcome] += 1;
    if (outcome === 'uploaded') stats.uploadedBytes += source.size;
    logger.debug(`${source.digest.slice(0, 19)} (${source.size} bytes): ${outcome}`);
  });
}

/** Puts the manifest under every tag, or under its digest alone when there are none. */
export async function putManifestTags(
  client: RegistryClient,
  repository: string,
  manifest: { bytes: Buffer; mediaType: string },
  tags: string[],
): Promise<string> {
  const digest = sha256Digest(manifest.bytes);
  for (const reference of tags.length ? tags : [digest]) await client.putManifest(repository, reference, manifest);
  return digest;
}

/**
 * Copies the image (or multi-platform index) `digest` from one repository to another, blobs first
 * and manifests last, children before the index: promote by digest, with no daemon.
 */
export async function copyImage(
  from: BlobOrigin,
  digest: string,
  to: BlobOrigin,
  tags: string[],
  stats: PushStats,
  logger: Logger,
): Promise<{ digest: string; mediaType: string }> {
  const copyManifest = async (reference: string, putAs: string[]): Promise<{ digest: string; mediaType: string }> => {
    const manifest = await from.client.getManifest(from.repository, reference);
    const name = `${from.client.registry}/${from.repository}@${reference}`;
    if (!manifest) throw new Error(`${name} was not found: check the source digest`);
    const parsed = parseManifest(manifest.bytes, manifest.mediaType, name);
    if ('index' in parsed) {
      for (const child of parsed.index.manifests) await copyManifest(child.digest, [child.digest]);
    } else {
      const blobs: Descriptor[] = [parsed.image.config, ...parsed.image.layers];
      await pushBlobs(
        to.client,
        to.repository,
        blobs.map((d) => ({ source: remoteBlob(from.client, from.repository, d), origin: from })),
        stats,
        logger,
      );
    }
    for (const reference of putAs) await to.client.putManifest(to.repository, reference, manifest);
    return { digest: manifest.digest, mediaType: manifest.mediaType };
  };
  return copyManifest(digest, tags.length ? tags : [digest]);
}
