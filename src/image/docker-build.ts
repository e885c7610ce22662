import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked, runCommand } from '../core/command.ts';
import type { Logger } from '../core/logger.ts';
import type { Credentials } from '../registry/auth.ts';

/** True when `docker` is on PATH and a Docker engine answers it. */
export async function dockerEngineAnswers(): Promise<boolean> {
  const result = await runCommand(['docker', 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000, quiet: true }).catch(
    () => undefined,
  );
  return result?.code === 0 && result.stdout.trim() !== '';
}

export interface DockerBuild {
  /** `registry/repository` */
  image: string;
  registry: string;
  context: string;
  file: string;
  buildArgs: string[];
  platforms: string[];
  tags: string[];
  labels: Record<string, string>;
  credentials?: Credentials;
  logger: Logger;
}

/**
 * `docker buildx build --push`, as docker/build-push-action runs it, argv only. The pushed digest
 * comes from buildx's metadata file. Without tags the image is pushed by digest alone.
 */
export async function buildAndPushDocker(build: DockerBuild): Promise<{ digest: string }> {
  const work = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'shipgate-buildx-'));
  try {
    const env: Record<string, string> = {};
    if (build.credentials) {
      env.DOCKER_CONFIG = await loginConfig(work, build.registry);
      await runChecked(['docker', 'login', build.registry, '--username', build.credentials.username, '--password-stdin'], {
        input: build.credentials.password,
        env,
      });
    }
    const metadataFile = join(work, 'metadata.json');
    const argv = ['docker', 'buildx', 'build', '--file', build.file, '--metadata-file', metadataFile];
    for (const arg of build.buildArgs) argv.push('--build-arg', arg);
    if (build.platforms.length) argv.push('--platform', build.platforms.join(','));
    for (const [key, value] of Object.entries(build.labels)) argv.push('--label', `${key}=${value}`);
    if (build.tags.length) {
      for (const tag of build.tags) argv.push('--tag', `${build.image}:${tag}`);
      argv.push('--push');
    } else {
      argv.push('--output', `type=image,name=${build.image},push-by-digest=true,name-canonical=true,push=true`);
    }
    argv.push(build.context);
    build.logger.info(argv.join(' '));
    await runChecked(argv, { timeoutMs: 60 * 60_000, env });
    const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
    const digest = metadata['containerimage.digest'];
    if (typeof digest !== 'string') throw new Error('docker buildx did not report the pushed digest (containerimage.digest)');
    return { digest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A Docker config directory that lives as long as this build: `docker login` writes the password
 * there, never to ~/.docker/config.json, and it is removed with `work` on every path. It starts
 * from the user's config.json (other registries' auths, proxies, the current context) and links
 * their plugins, contexts and buildx builders, so buildx sees the same builders as without it.
 * The copy names no credential store (`credsStore`, this registry's `credHelpers`), or the login
 * would land there and outlive the job; registries whose credentials only such a store holds are
 * read anonymously during this build.
 */
async function loginConfig(work: string, registry: string): Promise<string> {
  const original = process.env.DOCKER_CONFIG || join(homedir(), '.docker');
  const dir = join(work, 'docker-config');
  let config: { credsStore?: string; credHelpers?: Record<string, string> } = {};
  try {
    config = JSON.parse(await readFile(join(original, 'config.json'), 'utf8')) as typeof config;
  } catch {
    // No config, or one docker itself could not read: start empty.
  }
  delete config.credsStore;
  if (config.credHelpers) delete config.credHelpers[registry];
  await mkdir(dir, { mode: 0o700 });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  for (const shared of ['cli-plugins', 'contexts', 'buildx']) {
    const source = join(original, shared);
    if (await stat(source).catch(() => undefined)) await symlink(source, join(dir, shared));
  }
  return dir;
}
