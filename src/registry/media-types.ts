import { z } from 'zod';
import { parseJson } from '../core/http.ts';
import { logText } from '../core/untrusted.ts';

/** The manifest and layer media types of the OCI image spec and Docker's v2 schema 2. */
export const MediaTypes = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Every manifest type we read, in the order we prefer them, for the Accept header. */
export const MANIFEST_ACCEPT = [MediaTypes.OciIndex, MediaTypes.DockerManifestList, MediaTypes.OciManifest, MediaTypes.DockerManifest].join(
  ', ',
);

export function isIndex(mediaType: string): boolean {
  return mediaType === MediaTypes.OciIndex || mediaType === MediaTypes.DockerManifestList;
}

export function isImageManifest(mediaType: string): boolean {
  return mediaType === MediaTypes.OciManifest || mediaType === MediaTypes.DockerManifest;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/**
 * What a registry serves is checked before it is used: a digest goes into request paths, so it
 * must be a digest (no `/`, no `..`), and a manifest that is JSON of the wrong shape gets an error
 * naming the image rather than "Cannot read properties of undefined".
 */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: z.string().regex(DIGEST, 'is not a digest'),
  size: z.number().int().nonnegative(),
  platform: z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const imageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});

const imageIndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
});

const imageConfigSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  config: z.looseObject({}).optional(),
  rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(z.string()) }),
  history: z.array(z.looseObject({})).optional(),
});

function shaped<S extends z.ZodType>(schema: S, value: unknown, what: string, expected: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new Error(`${what} is not ${expected} (${logText(`${where}${issue.message}`, 200)})`);
}

/** The manifest's JSON as an image manifest or an index, by its media type; `what` names the image. */
export function parseManifest(bytes: Buffer, mediaType: string, what: string): { index: ImageIndex } | { image: ImageManifest } {
  const json = parseJson(bytes.toString('utf8'), what, 'an image manifest or index');
  if (isIndex(mediaType)) return { index: shaped(imageIndexSchema, json, what, 'an image index') as ImageIndex };
  if (isImageManifest(mediaType)) return { image: shaped(imageManifestSchema, json, what, 'an image manifest') as ImageManifest };
  throw new Error(`${what} has the unsupported manifest type "${logText(mediaType, 100)}" (an OCI or Docker v2 image or index expected)`);
}

/** An image config blob's JSON, the fields Shipgate reads checked. */
export function parseImageConfig<T>(bytes: Buffer, what: string): T {
  const json = parseJson(bytes.toString('utf8'), what, 'an image config');
  const config = shaped(imageConfigSchema, json, what, 'an image config');
  return { ...config, config: config.config ?? {} } as T;
}
