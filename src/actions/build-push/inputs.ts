import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { commandSchema } from '../../core/command.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { parseList } from '../../core/list-input.ts';
import { checkSchema } from '../../core/yaml-input.ts';
import type { ImageSettings } from '../../image/config.ts';
import { DEFAULT_SWITCHES, type TagSwitches } from '../../image/metadata.ts';
import { parsePlatform } from '../../image/platform.ts';
import type { Credentials } from '../../registry/auth.ts';
import { type ImageReference, isValidTag, parseReference } from '../../registry/reference.ts';
import { type Builder, Builders, Inputs } from './constants.ts';

/** The image settings (entrypoint, env, labels…) come straight from inputs; only `created` is decided later. */
export interface BuildPushInputs extends Omit<ImageSettings, 'created'> {
  /** `registry/repository`, no tag or digest. */
  image: ImageReference;
  builder: Builder;
  /** Copy mode: an existing image by digest. */
  source?: ImageReference & { digest: string };
  /** Undefined for `scratch`. */
  base?: ImageReference;
  /** Absolute path. */
  context: string;
  /** Absolute path to the Dockerfile. */
  file: string;
  buildArgs: string[];
  platforms: string[];
  /** The explicit tags; derived ones are added by the run. */
  tags: string[];
  flavor: TagSwitches;
  insecure: boolean;
  credentials?: Credentials;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const WORKDIR = /^(\/[A-Za-z0-9._@+-]+)*\/?$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;
const PORT = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/;

function keyValues(input: string, text: string, key: RegExp, example: string): Array<[string, string]> {
  return parseList(text, { commas: false }).map((line) => {
    const cut = line.indexOf('=');
    const name = cut < 0 ? line : line.slice(0, cut);
    if (cut < 0 || !key.test(name)) throw new ConfigurationError(input, `"${line}" is not KEY=value, one a line`, example);
    return [name, line.slice(cut + 1)];
  });
}

function command(input: string, text: string, example: string): string[] | undefined {
  if (text === '') return undefined;
  let value: unknown = text;
  if (text.startsWith('[')) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ConfigurationError(input, `"${text}" is not a JSON list of strings`, example);
    }
  }
  return checkSchema(input, value, commandSchema, example);
}

function reference(input: string, text: string, example: string): ImageReference {
  try {
    return parseReference(text);
  } catch (error) {
    throw new ConfigurationError(input, (error as Error).message, example);
  }
}

function directory(input: string, path: string, example: string): string {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info?.isDirectory()) throw new ConfigurationError(input, `${path} is not a directory`, example);
  return path;
}

/** Reads and validates every input of build-push; nothing touches a registry or a file until this returns. */
export function readBuildPushInputs(
  getInput: (name: string) => string,
  workspace = process.env.GITHUB_WORKSPACE || process.cwd(),
): BuildPushInputs {
  const get = (name: string) => getInput(name).trim();
  const bool = (name: string) => {
    const raw = get(name).toLowerCase();
    if (raw === '' || raw === 'false') return false;
    if (raw === 'true') return true;
    throw new ConfigurationError(name, `"${raw}" is not true or false`, `${name}: false`);
  };

  const imageText = get(Inputs.Image);
  if (imageText === '') throw new ConfigurationError(Inputs.Image, 'is required', 'image: ghcr.io/acme/api');
  const image = reference(Inputs.Image, imageText, 'image: ghcr.io/acme/api');
  if (image.tag || image.digest) {
    throw new ConfigurationError(
      Inputs.Image,
      `"${imageText}" names a ${image.digest ? 'digest' : 'tag'}; give registry/repository and put tags in "tags"`,
      'image: ghcr.io/acme/api',
    );
  }

  const builderText = get(Inputs.Builder) || 'auto';
  if (!(Builders as readonly string[]).includes(builderText)) {
    throw new ConfigurationError(Inputs.Builder, `"${builderText}" is not one of ${Builders.join(', ')}`, 'builder: oci');
  }
  const builder = builderText as Builder;

  const sourceText = get(Inputs.Source);
  let source: BuildPushInputs['source'];
  if (sourceText) {
    const parsed = reference(Inputs.Source, sourceText, 'source: ghcr.io/acme/api@sha256:…');
    if (!parsed.digest)
      throw new ConfigurationError(
        Inputs.Source,
        `"${sourceText}" has no digest; copy mode promotes an image by digest`,
        'source: ghcr.io/acme/api@sha256:…',
      );
    source = { ...parsed, digest: parsed.digest };
  }

  const baseText = get(Inputs.Base) || 'scratch';
  const base = baseText === 'scratch' ? undefined : reference(Inputs.Base, baseText, 'base: gcr.io/distroless/nodejs24-debian12');

  const platformText = get(Inputs.Platform) || 'linux/amd64';
  const platform = parsePlatform(platformText);
  if (!platform)
    throw new ConfigurationError(Inputs.Platform, `"${platformText}" is not os/architecture[/variant]`, 'platform: linux/arm64');

  const platforms = parseList(get(Inputs.Platforms), { commas: true });
  for (const p of platforms) {
    if (!parsePlatform(p))
      throw new ConfigurationError(Inputs.Platforms, `"${p}" is not os/architecture[/variant]`, 'platforms: linux/amd64,linux/arm64');
  }

  const context = resolve(workspace, get(Inputs.Context) || '.');
  // Copy mode builds nothing, so the context need not exist.
  if (!source) directory(Inputs.Context, context, 'context: ./app');
  const file = resolve(workspace, get(Inputs.File) || resolve(context, 'Dockerfile'));

  const workdir = get(Inputs.Workdir) || '/app';
  if (!WORKDIR.test(workdir) || !workdir.startsWith('/') || workdir.split('/').some((p) => p === '..' || p === '.')) {
    throw new ConfigurationError(Inputs.Workdir, `"${workdir}" is not an absolute path without "." or ".."`, 'workdir: /app');
  }

  const user = get(Inputs.User) || undefined;
  if (user && !USER.test(user))
    throw new ConfigurationError(Inputs.User, `"${user}" is not a user or user:group name or id`, 'user: 65532:65532');

  const expose = get(Inputs.Expose)
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((port) => {
      const match = PORT.exec(port);
      if (!match || Number(match[1]) < 1 || Number(match[1]) > 65535)
        throw new ConfigurationError(Inputs.Expose, `"${port}" is not a port (1-65535, optionally /tcp or /udp)`, 'expose: 8080, 9090/udp');
      return `${match[1]}/${match[2] ?? 'tcp'}`;
    });

  const tags = parseList(get(Inputs.Tags), { commas: true });
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new ConfigurationError(
        Inputs.Tags,
        `"${tag}" is not a valid tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`,
        'tags: v1.2.3, stable',
      );
    }
  }

  const flavor: TagSwitches = { ...DEFAULT_SWITCHES };
  for (const item of parseList(get(Inputs.Flavor), { commas: true })) {
    const match = /^([a-z-]+)\s*=\s*(true|false)$/.exec(item);
    if (!match || !(match[1]! in flavor)) {
      throw new ConfigurationError(
        Inputs.Flavor,
        `"${item}" is not one of ${Object.keys(flavor)
          .map((k) => `${k}=true|false`)
          .join(', ')}`,
        'flavor: sha-long=true, latest=false',
      );
    }
    flavor[match[1] as keyof TagSwitches] = match[2] === 'true';
  }

  const username = get(Inputs.Username);
  const password = getInput(Inputs.Password);
  if (!!username !== !!password) {
    throw new ConfigurationError(
      username ? Inputs.Password : Inputs.Username,
      'is needed with the other: give both username and password, or neither',
      'username: ${{ github.actor }} with password: ${{ secrets.GITHUB_TOKEN }}',
    );
  }

  const entrypoint = command(Inputs.Entrypoint, get(Inputs.Entrypoint), 'entrypoint: \'["node", "server.js"]\'');
  const cmd = command(Inputs.Cmd, get(Inputs.Cmd), 'cmd: \'["--port", "8080"]\'');
  const labels = Object.fromEntries(
    keyValues(Inputs.Labels, get(Inputs.Labels), LABEL_KEY, 'labels: org.opencontainers.image.vendor=Acme'),
  );
  return {
    image,
    builder,
    ...(source ? { source } : {}),
    ...(base ? { base } : {}),
    platform,
    context,
    ...(entrypoint ? { entrypoint } : {}),
    ...(cmd ? { cmd } : {}),
    env: keyValues(Inputs.Env, get(Inputs.Env), ENV_KEY, 'env: NODE_ENV=production'),
    workdir,
    ...(user ? { user } : {}),
    expose,
    labels,
    file,
    buildArgs: keyValues(Inputs.BuildArgs, get(Inputs.BuildArgs), ENV_KEY, 'build-args: VERSION=1.2.3').map(([k, v]) => `${k}=${v}`),
    platforms,
    tags,
    flavor,
    insecure: bool(Inputs.Insecure),
    ...(username ? { credentials: { username, password } } : {}),
  };
}
