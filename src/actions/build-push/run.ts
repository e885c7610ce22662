import { existsSync } from 'node:fs';
import * as core from '../../core/runner.ts';
import { versionOf as releaseVersion } from '../../slots/release.ts';
import { coreLogger } from '../../core/action.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { buildAndPushDocker, dockerEngineAnswers } from '../../image/docker-build.ts';
import { allTags, ociLabels, sourceContext, versionOf } from '../../image/metadata.ts';
import { buildAndPushOci } from '../../image/oci-build.ts';
import { formatPlatform } from '../../image/platform.ts';
import { rfc3339, sourceDate } from '../../image/source-date.ts';
import { RegistryClient } from '../../registry/client.ts';
import { copyImage, emptyStats, type PushStats } from '../../registry/push.ts';
import { repositoryName } from '../../registry/reference.ts';
import { Inputs, Outputs } from './constants.ts';
import { type BuildPushInputs, readBuildPushInputs } from './inputs.ts';

interface Pushed {
  digest: string;
  builder: 'oci' | 'docker' | 'copy';
  labels?: Record<string, string>;
  stats?: PushStats;
  extra?: Record<string, unknown>;
}

/** Which builder runs: docker needs an engine; auto takes it only with an engine and a Dockerfile. */
async function chooseBuilder(inputs: BuildPushInputs): Promise<'oci' | 'docker'> {
  if (inputs.builder === 'oci') return 'oci';
  const engine = await dockerEngineAnswers();
  if (inputs.builder === 'docker') {
    if (!engine)
      throw new ConfigurationError(
        Inputs.Builder,
        'is docker, but no Docker engine answers "docker version" on this runner',
        'builder: oci (daemonless)',
      );
    if (!existsSync(inputs.file)) throw new ConfigurationError(Inputs.File, `${inputs.file} does not exist`, 'file: ./Dockerfile');
    return 'docker';
  }
  if (engine && existsSync(inputs.file)) return 'docker';
  core.info(
    engine
      ? `No Dockerfile at ${inputs.file}: building with the daemonless oci builder.`
      : 'No Docker engine answers here: building with the daemonless oci builder.',
  );
  return 'oci';
}

export async function buildPushMain(): Promise<void> {
  const inputs = readBuildPushInputs((name) => core.getInput(name));
  if (inputs.credentials) core.setSecret(inputs.credentials.password);
  const source = sourceContext(process.env, coreLogger);
  const tags = allTags(inputs.tags, source, inputs.flavor);
  const name = repositoryName(inputs.image);
  // The client masks the credentials' Basic form and every token it fetches, too.
  const client = new RegistryClient(inputs.image.registry, {
    ...(inputs.credentials ? { credentials: inputs.credentials } : {}),
    insecure: inputs.insecure,
    logger: coreLogger,
    mask: (secret) => core.setSecret(secret),
  });
  const target = { client, repository: inputs.image.repository };

  let pushed: Pushed;
  if (inputs.source) {
    const from = inputs.source;
    // The same registry shares the credentials; another one is read anonymously.
    const sourceClient =
      from.registry === inputs.image.registry
        ? client
        : new RegistryClient(from.registry, { insecure: inputs.insecure, logger: coreLogger, mask: (secret) => core.setSecret(secret) });
    await client.check(inputs.image.repository, ['pull', 'push']);
    const stats = emptyStats();
    const copied = await core.group(`Copying ${repositoryName(from)}@${from.digest} to ${name}`, () =>
      copyImage({ client: sourceClient, repository: from.repository }, from.digest, target, tags, stats, coreLogger),
    );
    core.info(`Blobs: ${stats.exists} already there, ${stats.mounted} mounted, ${stats.uploaded} copied (${stats.uploadedBytes} bytes).`);
    pushed = {
      digest: copied.digest,
      builder: 'copy',
      stats,
      extra: { source: `${repositoryName(from)}@${from.digest}`, mediaType: copied.mediaType },
    };
  } else if ((await chooseBuilder(inputs)) === 'docker') {
    const created = await sourceDate(inputs.context);
    const labels = { ...ociLabels(source, created.date, versionOf(source, tags)), ...inputs.labels };
    const built = await core.group('docker buildx build --push', () =>
      buildAndPushDocker({
        image: name,
        registry: inputs.image.registry,
        context: inputs.context,
        file: inputs.file,
        buildArgs: inputs.buildArgs,
        platforms: inputs.platforms,
        tags,
        labels,
        ...(inputs.credentials ? { credentials: inputs.credentials } : {}),
        logger: coreLogger,
      }),
    );
    pushed = { digest: built.digest, builder: 'docker', labels };
  } else {
    const created = await sourceDate(inputs.context);
    core.info(`File times and the image's created time: ${rfc3339(created.date)} (from ${created.from}).`);
    const labels = { ...ociLabels(source, created.date, versionOf(source, tags)), ...inputs.labels };
    await client.check(inputs.image.repository, ['pull', 'push']);
    const base = inputs.base;
    const baseClient =
      base &&
      (base.registry === inputs.image.registry
        ? client
        : new RegistryClient(base.registry, { logger: coreLogger, mask: (secret) => core.setSecret(secret) }));
    const built = await buildAndPushOci({
      target,
      ...(base && baseClient ? { base: { client: baseClient, reference: base } } : {}),
      context: inputs.context,
      settings: {
        platform: inputs.platform,
        created: created.date,
        ...(inputs.entrypoint ? { entrypoint: inputs.entrypoint } : {}),
        ...(inputs.cmd ? { cmd: inputs.cmd } : {}),
        env: inputs.env,
        workdir: inputs.workdir,
        ...(inputs.user ? { user: inputs.user } : {}),
        expose: inputs.expose,
        labels,
      },
      tags,
      logger: coreLogger,
    });
    pushed = {
      digest: built.digest,
      builder: 'oci',
      labels,
      stats: built.stats,
      extra: {
        mediaType: built.mediaType,
        platform: formatPlatform(inputs.platform),
        created: rfc3339(created.date),
        layer: built.layer,
        ...(built.baseDigest && base ? { base: `${repositoryName(base)}@${built.baseDigest}` } : {}),
      },
    };
  }

  const reference = `${name}@${pushed.digest}`;
  const fullTags = tags.map((tag) => `${name}:${tag}`);
  core.setOutput(Outputs.Digest, pushed.digest);
  core.setOutput(Outputs.Image, reference);
  core.setOutput(Outputs.Tags, fullTags.join('\n'));
  // What deploy and people call this release: the first tag (yours come before the derived ones).
  core.setOutput(Outputs.Version, tags[0] ?? releaseVersion(reference));
  core.setOutput(
    Outputs.Metadata,
    JSON.stringify({
      image: reference,
      digest: pushed.digest,
      tags: fullTags,
      builder: pushed.builder,
      labels: pushed.labels,
      blobs: pushed.stats,
      ...pushed.extra,
    }),
  );
  core.info(`Pushed ${reference}${tags.length ? ` as ${tags.join(', ')}` : ''}.`);
  const rows = [
    ['Image', `\`${reference}\``],
    ['Tags', tags.length ? tags.map((t) => `\`${t}\``).join(' ') : '(by digest only)'],
    ['Builder', pushed.builder],
    ...(pushed.stats
      ? [
          [
            'Blobs',
            `${pushed.stats.exists} already there, ${pushed.stats.mounted} mounted, ${pushed.stats.uploaded} uploaded (${pushed.stats.uploadedBytes} bytes)`,
          ],
        ]
      : []),
  ];
  if (process.env.GITHUB_STEP_SUMMARY)
    await core.summary.addRaw(`### 📦 build-push\n\n| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`).write();
}
