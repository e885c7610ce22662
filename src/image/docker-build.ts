import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked, runCommand } from '../core/command.ts';
import type { Logger } from '../core/logger.ts';
import type { Credentials } from '../registry/auth.ts';

/** True when `docker` is on PATH and a Docker engine answers it. */
export async function dockerEngineAnswers(): Promise<boolean> {
  const result = await runCommand(['docker', 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 }).catch(() => undefined);
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
    if (build.credentials) {
      await runChecked(['docker', 'login', build.registry, '--username', build.credentials.username, '--password-stdin'], {
        input: build.credentials.password,
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
    await runChecked(argv, { timeoutMs: 60 * 60_000 });
    const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
    const digest = metadata['containerimage.digest'];
    if (typeof digest !== 'string') throw new Error('docker buildx did not report the pushed digest (containerimage.digest)');
    return { digest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
