import type { Logger } from '../core/logger.ts';
import { bufferBlob, remoteBlob } from '../registry/blob-sources.ts';
import { type BlobSource, type RegistryClient, sha256Digest } from '../registry/client.ts';
import { type Descriptor, parseImageConfig, parseManifest } from '../registry/media-types.ts';
import { type BlobOrigin, emptyStats, type PushStats, pushBlobs, putManifestTags } from '../registry/push.ts';
import type { ImageReference } from '../registry/reference.ts';
import { resolveBase } from './base.ts';
import {
  configMediaType,
  type ImageConfig,
  imageConfig,
  type ImageSettings,
  imageManifest,
  layerMediaType,
  type ManifestFlavour,
} from './config.ts';
import { compressedLayer, hashLayer, listContext } from './layer.ts';

export interface OciBuild {
  target: BlobOrigin;
  /** Undefined for `scratch`. */
  base?: { client: RegistryClient; reference: ImageReference };
  context: string;
  settings: ImageSettings;
  tags: string[];
  logger: Logger;
}

export interface OciBuildResult {
  digest: string;
  mediaType: string;
  config: ImageConfig;
  layer: Descriptor & { diffId: string; files: number; reused: boolean };
  baseDigest?: string;
  stats: PushStats;
}

/**
 * The layers already in the target under our tags, by diff_id: one with our uncompressed content
 * is reused as is, so an unchanged re-push neither compresses nor uploads anything.
 */
async function pushedLayers(target: BlobOrigin, tags: string[], mediaType: string): Promise<Map<string, Descriptor>> {
  const layers = new Map<string, Descriptor>();
  await Promise.all(
    tags.slice(0, 5).map(async (tag) => {
      const manifest = await target.client.getManifest(target.repository, tag);
      if (!manifest) return;
      const what = `${target.client.registry}/${target.repository}:${tag}`;
      const parsed = parseManifest(manifest.bytes, manifest.mediaType, what);
      if (!('image' in parsed)) return;
      const bytes = await target.client.getBlobBytes(target.repository, parsed.image.config.digest);
      const config = parseImageConfig<ImageConfig>(bytes, `The config of ${what}`);
      config.rootfs.diff_ids.forEach((diffId, at) => {
        const layer = parsed.image.layers[at];
        if (layer?.mediaType === mediaType) layers.set(diffId, layer);
      });
    }),
  ).catch(() => layers.clear());
  return layers;
}

/**
 * Builds an image from a context directory without a daemon (one deterministic layer on top of a
 * base), pushes its blobs and then its manifest under every tag.
 */
export async function buildAndPushOci(build: OciBuild): Promise<OciBuildResult> {
  const { target, settings, logger } = build;
  const base = build.base
    ? await logger.group(`Resolving base ${build.base.reference.registry}/${build.base.reference.repository}`, () =>
        resolveBase(build.base!.client, build.base!.reference, settings.platform),
      )
    : undefined;
  const flavour: ManifestFlavour = base?.flavour ?? 'oci';
  const mediaType = layerMediaType(flavour);
  const stats = emptyStats();
  const push = (blobs: Array<{ source: BlobSource; origin?: BlobOrigin }>) =>
    pushBlobs(target.client, target.repository, blobs, stats, logger);
  const baseOrigin = base && { client: build.base!.client, repository: base.reference.repository };
  const baseBlobs = (base?.layers ?? []).map((d) => ({
    source: remoteBlob(baseOrigin!.client, baseOrigin!.repository, d),
    origin: baseOrigin!,
  }));
  return logger.group(`Building and pushing to ${target.client.registry}/${target.repository}`, async () => {
    const entries = await listContext(build.context, settings.workdir);
    // Hashing first costs a read of the context; worth it only when a pushed layer may match.
    const known = await pushedLayers(target, build.tags, mediaType);
    const tar = known.size > 0 ? await hashLayer(entries, settings.created) : undefined;
    const previous = tar && known.get(tar.diffId);
    let layer: OciBuildResult['layer'];
    if (tar && previous) {
      logger.info(`${tar.files} files, ${tar.size} bytes of tar, diff_id ${tar.diffId}: already pushed as ${previous.digest}, reusing it.`);
      await push([...baseBlobs, { source: remoteBlob(target.client, target.repository, previous) }]);
      layer = { ...previous, diffId: tar.diffId, files: tar.files, reused: true };
    } else {
      // The layer is compressed while it uploads, and the base's blobs go up beside it.
      const [made] = await Promise.all([
        target.client.pushProduced(target.repository, () => compressedLayer(entries, settings.created)),
        push(baseBlobs),
      ]);
      stats.uploaded += 1;
      stats.uploadedBytes += made.size;
      logger.info(
        `${made.tar.files} files, ${made.tar.size} bytes of tar (diff_id ${made.tar.diffId}), compressed to ${made.size} bytes: ${made.digest}`,
      );
      layer = { mediaType, digest: made.digest, size: made.size, diffId: made.tar.diffId, files: made.tar.files, reused: false };
    }
    // The config names the layer's diff_id, so it can only go up once the layer is made.
    const config = imageConfig(base?.config, settings, layer.diffId);
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDescriptor: Descriptor = {
      mediaType: configMediaType(flavour),
      digest: sha256Digest(configBytes),
      size: configBytes.length,
    };
    await push([{ source: bufferBlob(configBytes, configDescriptor.digest) }]);
    logger.info(
      `Blobs: ${stats.exists} already there, ${stats.mounted} mounted, ${stats.uploaded} uploaded (${stats.uploadedBytes} bytes).`,
    );
    const manifest = imageManifest(flavour, configDescriptor, [
      ...(base?.layers ?? []),
      { mediaType, digest: layer.digest, size: layer.size },
    ]);
    const digest = await putManifestTags(target.client, target.repository, manifest, build.tags);
    return { digest, mediaType: manifest.mediaType, config, layer, ...(base ? { baseDigest: base.digest } : {}), stats };
  });
}
