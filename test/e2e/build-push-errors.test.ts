import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/client.ts';
import { MediaTypes } from '../../src/registry/media-types.ts';
import { type Registry, skopeoConfig, skopeoInspect, skopeoTags, startRegistry, stopRegistries } from '../support/registry.ts';
import { runStep } from '../support/runner.ts';
import { freePort } from '../support/services.ts';

let registry: Registry;
let context: string;

beforeAll(async () => {
  registry = await startRegistry();
  context = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
  await writeFile(join(context, 'main.sh'), 'echo hi\n');
});
afterAll(stopRegistries);

describe('build-push refuses bad inputs with one clear error and no tag', () => {
  const cases: Array<[string, (host: string) => Record<string, string>, RegExp]> = [
    [
      'a malformed image reference',
      (h) => ({ image: `${h}/Bad Name` }),
      /^Input "image": .*white space.*Example: image: ghcr.io\/acme\/api$/,
    ],
    ['an image with a tag', (h) => ({ image: `${h}/bad:v1` }), /^Input "image": .*names a tag/],
    [
      'an unknown builder',
      (h) => ({ image: `${h}/bad`, builder: 'kaniko' }),
      /^Input "builder": "kaniko" is not one of auto, docker, oci\. Example: builder: oci$/,
    ],
    [
      'a missing context dir',
      (h) => ({ image: `${h}/bad`, context: '/nonexistent/ctx' }),
      /^Input "context": \/nonexistent\/ctx is not a directory/,
    ],
    [
      'a tag with illegal characters',
      (h) => ({ image: `${h}/bad`, tags: 'v1, feature/login' }),
      /^Input "tags": "feature\/login" is not a valid tag/,
    ],
    ['an unknown flavor switch', (h) => ({ image: `${h}/bad`, flavor: 'edge=true' }), /^Input "flavor": "edge=true" is not one of/],
    ['a source without digest', (h) => ({ image: `${h}/bad`, source: `${h}/app:v1` }), /^Input "source": .*has no digest/],
    ['an env line without =', (h) => ({ image: `${h}/bad`, env: 'NODE_ENV' }), /^Input "env": "NODE_ENV" is not KEY=value/],
  ];
  for (const [what, inputs, message] of cases) {
    it(what, async () => {
      const step = await runStep('build-push', 'main', { inputs: { builder: 'oci', context, tags: 'v1', ...inputs(registry.host) } });
      expect(step.code).not.toBe(0);
      expect(step.errors).toHaveLength(1);
      expect(step.errors[0]).toMatch(message);
      expect(skopeoTags(`${registry.host}/bad`)).toBeUndefined();
    });
  }

  it('an unreachable registry', async () => {
    const port = await freePort();
    const step = await runStep('build-push', 'main', { inputs: { image: `127.0.0.1:${port}/app`, builder: 'oci', context } });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${port}/app: could not reach http://127\\.0\\.0\\.1:${port} .*ECONNREFUSED`),
    );
  });
});

describe('the docker builder without a Docker engine', () => {
  it('builder: docker fails clearly', async () => {
    await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY main.sh /\n');
    const step = await runStep('build-push', 'main', { inputs: { image: `${registry.host}/docker`, builder: 'docker', context } });
    expect(step.code).not.toBe(0);
    expect(step.errors).toEqual([
      'Input "builder": is docker, but no Docker engine answers "docker version" on this runner. Example: builder: oci (daemonless)',
    ]);
    expect(skopeoTags(`${registry.host}/docker`)).toBeUndefined();
  });

  it('builder: auto falls back to oci and pushes', async () => {
    const step = await runStep('build-push', 'main', { inputs: { image: `${registry.host}/auto`, context, tags: 'v1' } });
    expect(step.errors).toEqual([]);
    expect(step.stdout).toContain('No Docker engine answers here: building with the daemonless oci builder.');
    expect(JSON.parse(step.outputs.metadata!).builder).toBe('oci');
    expect(skopeoInspect(`${registry.host}/auto:v1`).Digest).toBe(step.outputs.digest);
  });
});

describe('a multi-platform base', () => {
  it('is resolved to the platform asked for, its layers mounted from the base repository', async () => {
    const digests: Record<string, string> = {};
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const step = await runStep('build-push', 'main', {
        inputs: { image: `${registry.host}/base`, builder: 'oci', context, platform, env: `PLATFORM=${platform}`, workdir: '/base' },
      });
      expect(step.errors).toEqual([]);
      digests[platform] = step.outputs.digest!;
    }
    const client = new RegistryClient(registry.host);
    const manifests = await Promise.all(
      Object.entries(digests).map(async ([platform, digest]) => {
        const m = (await client.getManifest('base', digest))!;
        const [os, architecture] = platform.split('/');
        return { mediaType: m.mediaType, digest, size: m.bytes.length, platform: { os, architecture } };
      }),
    );
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests }));
    await client.putManifest('base', 'multi', { bytes: index, mediaType: MediaTypes.OciIndex });

    const step = await runStep('build-push', 'main', {
      inputs: {
        image: `${registry.host}/on-base`,
        builder: 'oci',
        context,
        base: `${registry.host}/base:multi`,
        platform: 'linux/arm64',
        env: 'APP=1',
        tags: 'v1',
      },
    });
    expect(step.errors).toEqual([]);
    const metadata = JSON.parse(step.outputs.metadata!);
    expect(metadata.base).toBe(`${registry.host}/base@${digests['linux/arm64']}`);
    expect(metadata.blobs.mounted).toBe(1);
    const config = skopeoConfig(`${registry.host}/on-base:v1`);
    expect(config.architecture).toBe('arm64');
    expect(config.rootfs.diff_ids).toHaveLength(2);
    expect(config.config.Env).toEqual(['PLATFORM=linux/arm64', 'APP=1']);
    expect(config.config.WorkingDir).toBe('/app');

    const wrong = await runStep('build-push', 'main', {
      inputs: {
        image: `${registry.host}/on-base`,
        builder: 'oci',
        context,
        base: `${registry.host}/base:multi`,
        platform: 'linux/s390x',
        tags: 'v2',
      },
    });
    expect(wrong.errors).toHaveLength(1);
    expect(wrong.errors[0]).toMatch(/has no linux\/s390x variant \(it has linux\/amd64, linux\/arm64\)/);
  });
});
