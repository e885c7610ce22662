import type { RegistryClient } from '../registry/client.ts';
import { type Descriptor, type ImageIndex, type ImageManifest, isImageManifest, isIndex, MediaTypes } from '../registry/media-types.ts';
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
  if (isIndex(manifest.mediaType)) {
    const index = JSON.parse(manifest.bytes.toString()) as ImageIndex;
    const entry = index.manifests.find((m) => platformMatches(platform, m.platform));
    if (!entry) {
      const offered = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform as Platform) : 'unknown')).join(', ');
      throw new Error(
        `The base image ${name} has no ${formatPlatform(platform)} variant (it has ${offered}): set platform to one of these`,
      );
    }
    manifest = await client.getManifest(reference.repository, entry.digest);
    if (!manifest)
      throw new Error(`The base image ${name} lists ${entry.digest} for ${formatPlatform(platform)}, but the registry does not have it`);
  }
  if (!isImageManifest(manifest.mediaType))
    throw new Error(`The base image ${name} has an unsupported manifest type ${manifest.mediaType}`);
  const parsed = JSON.parse(manifest.bytes.toString()) as ImageManifest;
  const config = JSON.parse((await client.getBlobBytes(reference.repository, parsed.config.digest)).toString()) as ImageConfig;
  if (!platformMatches(platform, config)) {
    throw new Error(
      `The base image ${name} is for ${formatPlatform(config)}, not ${formatPlatform(platform)}: set platform to match it or pick another base`,
    );
  }
  return {
    reference,
    digest: manifest.digest,
    flavour: manifest.mediaType === MediaTypes.DockerManifest ? 'docker' : 'oci',
    layers: parsed.layers,
    config,
  };
}
