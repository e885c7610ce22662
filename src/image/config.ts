import { rfc3339 } from './source-date.ts';
import { type Descriptor, MediaTypes } from '../registry/media-types.ts';
import type { Platform } from './platform.ts';

/** The parts of an OCI image config we read from a base and write back. */
export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  variant?: string;
  config: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    [other: string]: unknown;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>;
}

/** What the action adds on top of the base; unset fields keep the base's values. */
export interface ImageSettings {
  platform: Platform;
  created: Date;
  entrypoint?: string[];
  cmd?: string[];
  env: Array<[string, string]>;
  workdir: string;
  user?: string;
  /** `8080/tcp` form. */
  expose: string[];
  labels: Record<string, string>;
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The new image's config: the base's, with our settings over it and our layer's diff_id last.
 * Keys are written in a fixed order, so the same settings give the same bytes and digest.
 */
export function imageConfig(base: ImageConfig | undefined, settings: ImageSettings, diffId: string): ImageConfig {
  const inherited = base?.config ?? {};
  const env = new Map<string, string>();
  for (const line of inherited.Env ?? []) {
    const cut = line.indexOf('=');
    env.set(cut < 0 ? line : line.slice(0, cut), cut < 0 ? '' : line.slice(cut + 1));
  }
  for (const [key, value] of settings.env) env.set(key, value);
  const ports: Record<string, object> = { ...(inherited.ExposedPorts ?? {}) };
  for (const port of settings.expose) ports[port] = {};
  const labels = sortedKeys({ ...(inherited.Labels ?? {}), ...settings.labels });
  // A new entrypoint resets the base's cmd, as Docker does: the old arguments belong to the old program.
  const entrypoint = settings.entrypoint ?? inherited.Entrypoint ?? undefined;
  const cmd = settings.cmd ?? (settings.entrypoint ? undefined : (inherited.Cmd ?? undefined));
  const user = settings.user ?? inherited.User;
  const created = rfc3339(settings.created);
  const config: ImageConfig['config'] = {
    ...(user ? { User: user } : {}),
    ...(Object.keys(ports).length ? { ExposedPorts: sortedKeys(ports) } : {}),
    ...(env.size ? { Env: [...env].map(([k, v]) => `${k}=${v}`) } : {}),
    ...(entrypoint ? { Entrypoint: entrypoint } : {}),
    ...(cmd ? { Cmd: cmd } : {}),
    WorkingDir: settings.workdir,
    ...(Object.keys(labels).length ? { Labels: labels } : {}),
  };
  return {
    created,
    architecture: settings.platform.architecture,
    os: settings.platform.os,
    ...(settings.platform.variant ? { variant: settings.platform.variant } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? []), diffId] },
    history: [
      ...(base?.history ?? []),
      { created, created_by: `shipgate build-push: context at ${settings.workdir}`, comment: 'shipgate' },
    ],
  };
}

/** The two manifest flavours: we keep the base's, as registries and runtimes expect one kind per image. */
export type ManifestFlavour = 'oci' | 'docker';

export function layerMediaType(flavour: ManifestFlavour): string {
  return flavour === 'oci' ? MediaTypes.OciLayerGzip : MediaTypes.DockerLayerGzip;
}

export function imageManifest(flavour: ManifestFlavour, config: Descriptor, layers: Descriptor[]): { bytes: Buffer; mediaType: string } {
  const mediaType = flavour === 'oci' ? MediaTypes.OciManifest : MediaTypes.DockerManifest;
  const clean = (d: Descriptor) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations ? { annotations: d.annotations } : {}),
  });
  const manifest = { schemaVersion: 2, mediaType, config: clean(config), layers: layers.map(clean) };
  return { bytes: Buffer.from(JSON.stringify(manifest)), mediaType };
}

export function configMediaType(flavour: ManifestFlavour): string {
  return flavour === 'oci' ? MediaTypes.OciConfig : MediaTypes.DockerConfig;
}
