import { logText } from '../core/untrusted.ts';
import type { RegistryClient } from '../registry/client.ts';
import { type Descriptor, MediaTypes, parseImageConfig, parseManifest } from '../registry/media-types.ts';
import { formatReference, type ImageReference } from '../registry/reference.ts';
import type { ImageConfig, ManifestFlavour } from './config.ts';
import { formatPlatform, type Platform, platformMatches } from './platform.ts';

/** The image we build on: its layers (still in its registry) and its config. */
export interface BaseImage {
  reference: ImageReference;
  /** The digest of the single-platform manifest picked. */
  digest: string;
  flavour: ManifestFlavour;
  layers: Descriptor[];
  config: ImageConfig;
}

/**
 * Reads a base image for one platform. A multi-platform index is resolved to the entry for
 * `platform`; a single-platform image must be for that platform.
 */
export async function resolveBase(client: RegistryClient, reference: ImageReference, platform: Platform): Promise<BaseImage> {
  const name = formatReference(reference);
  let manifest = await client.getManifest(reference.repository, reference.digest ?? reference.tag ?? 'latest');
  if (!manifest) throw new Error(`The base image ${name} was not found: check its name and tag`);
  let parsed = parseManifest(manifest.bytes, manifest.mediaType, `The base image ${name}`);
  if ('index' in parsed) {
    const entry = parsed.index.manifests.find((m) => platformMatches(platform, m.platform));
    if (!entry) {
      const offered = parsed.index.manifests.map((m) => (m.platform ? formatPlatform(m.platform as Platform) : 'unknown')).join(', ');
      throw new Error(
        `The base image ${name} has no ${formatPlatform(platform)} variant (it has ${logText(offered, 200)}): set platform to one of these`,
      );
    }
    manifest = await client.getManifest(reference.repository, entry.digest);
    if (!manifest)
      throw new Error(`The base image ${name} lists ${entry.digest} for ${formatPlatform(platform)}, but the registry does not have it`);
    parsed = parseManifest(manifest.bytes, manifest.mediaType, `The base image ${name} (${formatPlatform(platform)})`);
    if ('index' in parsed) throw new Error(`The base image ${name} lists another index for ${formatPlatform(platform)}, not an image`);
  }
  const image = parsed.image;
  const config = parseImageConfig<ImageConfig>(
    await client.getBlobBytes(reference.repository, image.config.digest),
    `The config of the base image ${name}`,
  );
  if (!platformMatches(platform, config)) {
    throw new Error(
      `The base image ${name} is for ${logText(formatPlatform(config), 100)}, not ${formatPlatform(platform)}: set platform to match it or pick another base`,
    );
  }
  return {
    reference,
    digest: manifest.digest,
    flavour: manifest.mediaType === MediaTypes.DockerManifest ? 'docker' : 'oci',
    layers: image.layers,
    config,
  };
}
