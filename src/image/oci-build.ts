import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';
import { bufferBlob, fileBlob, remoteBlob } from '../registry/blob-sources.ts';
import { type BlobSource, type RegistryClient, sha256Digest } from '../registry/client.ts';
import { type Descriptor, type ImageManifest, isImageManifest } from '../registry/media-types.ts';
import { type BlobOrigin, emptyStats, type PushStats, pushBlobs, putManifestTags } from '../registry/push.ts';
import type { ImageReference } from '../registry/reference.ts';
import { resolveBase } from './base.ts';
import { configMediaType, type ImageConfig, imageConfig, type ImageSettings, imageManifest, layerMediaType, type ManifestFlavour } from './config.ts';
import { hashLayer, listContext, writeLayerBlob } from './layer.ts';

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
      if (!manifest || !isImageManifest(manifest.mediaType)) return;
      const parsed = JSON.parse(manifest.bytes.toString()) as ImageManifest;
      const config = JSON.parse((await target.client.getBlobBytes(target.repository, parsed.config.digest)).toString()) as ImageConfig;
      config.rootfs?.diff_ids?.forEach((diffId, at) => {
        const layer = parsed.layers[at];
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
  const base = build.base ? await logger.group(`Resolving base ${build.base.reference.registry}/${build.base.reference.repository}`, () => resolveBase(build.base!.client, build.base!.reference, settings.platform)) : undefined;
  const flavour: ManifestFlavour = base?.flavour ?? 'oci';
  const work = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'shipgate-build-'));
  try {
    const { tar, layer, reused } = await logger.group('Building the layer', async () => {
      const entries = await listContext(build.context, settings.workdir);
      const mediaType = layerMediaType(flavour);
      // Hashing first costs a read of the context; worth it only when a pushed layer may match.
      const known = await pushedLayers(target, build.tags, mediaType);
      if (known.size > 0) {
        const tar = await hashLayer(entries, settings.created);
        const previous = known.get(tar.diffId);
        if (previous) {
          logger.info(`${tar.files} files, ${tar.size} bytes of tar, diff_id ${tar.diffId}: already pushed as ${previous.digest}, reusing it.`);
          return { tar, reused: true, layer: { source: remoteBlob(target.client, target.repository, previous), descriptor: previous } };
        }
      }
      const blob = await writeLayerBlob(entries, settings.created, join(work, 'layer.tar.gz'));
      const tar = blob.tar;
      logger.info(`${tar.files} files, ${tar.size} bytes of tar (diff_id ${tar.diffId}), compressed to ${blob.size} bytes: ${blob.digest}`);
      return { tar, reused: false, layer: { source: fileBlob(blob.path, blob.digest, blob.size) as BlobSource, descriptor: { mediaType, digest: blob.digest, size: blob.size } } };
    });
    const config = imageConfig(base?.config, settings, tar.diffId);
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDescriptor: Descriptor = { mediaType: configMediaType(flavour), digest: sha256Digest(configBytes), size: configBytes.length };
    const layers = [...(base?.layers ?? []), layer.descriptor];
    const manifest = imageManifest(flavour, configDescriptor, layers);
    const stats = emptyStats();
    const digest = await logger.group(`Pushing to ${target.client.registry}/${target.repository}`, async () => {
      const baseOrigin = base ? { client: build.base!.client, repository: base.reference.repository } : undefined;
      await pushBlobs(
        target.client,
        target.repository,
        [
          ...(base?.layers ?? []).map((d) => ({ source: remoteBlob(baseOrigin!.client, baseOrigin!.repository, d), origin: baseOrigin! })),
          { source: layer.source },
          { source: bufferBlob(configBytes, configDescriptor.digest) },
        ],
        stats,
        logger,
      );
      logger.info(`Blobs: ${stats.exists} already there, ${stats.mounted} mounted, ${stats.uploaded} uploaded (${stats.uploadedBytes} bytes).`);
      return putManifestTags(target.client, target.repository, manifest, build.tags);
    });
    return {
      digest,
      mediaType: manifest.mediaType,
      config,
      layer: { ...layer.descriptor, diffId: tar.diffId, files: tar.files, reused },
      ...(base ? { baseDigest: base.digest } : {}),
      stats,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
