import { chmod, cp, mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CountingProxy,
  type Registry,
  skopeoConfig,
  skopeoInspect,
  skopeoLayerFile,
  skopeoLayerListing,
  skopeoTags,
  startCountingProxy,
  startRegistry,
  stopRegistries,
} from '../support/registry.ts';
import { runStep } from '../support/runner.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';

/** A GitHub push to main, as the runner describes it to an action. */
async function pushEvent(): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-event-'));
  await writeFile(join(dir, 'event.json'), JSON.stringify({ repository: { default_branch: 'main' } }));
  return {
    GITHUB_SHA: SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REPOSITORY: 'acme/api',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
  };
}

async function makeContext(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
  await mkdir(join(dir, 'lib'));
  await writeFile(join(dir, 'server.js'), 'console.log("hello from shipgate");\n');
  await writeFile(join(dir, 'lib', 'util.js'), 'export const answer = 42;\n');
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\nexec node server.js\n');
  await chmod(join(dir, 'run.sh'), 0o775);
  await mkdir(join(dir, '.git'));
  await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return dir;
}

/** The same files as a fresh checkout has them: copied, with new times. */
async function freshCheckout(context: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-checkout-'));
  await cp(context, dir, { recursive: true });
  const later = new Date(Date.now() + 3_600_000);
  for (const f of ['server.js', 'lib/util.js', 'run.sh', 'lib']) await utimes(join(dir, f), later, later);
  return dir;
}

let registry: Registry;
let proxy: CountingProxy;
let context: string;
let event: Record<string, string>;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startCountingProxy(registry.host);
  context = await makeContext();
  event = await pushEvent();
});
afterAll(stopRegistries);

const ociInputs = (image: string, extra: Record<string, string> = {}) => ({
  image,
  builder: 'oci',
  context,
  entrypoint: '["node", "server.js"]',
  env: 'NODE_ENV=production\nGREETING=hello world',
  expose: '8080',
  user: '65532:65532',
  labels: 'org.opencontainers.image.vendor=Acme',
  tags: 'v1, stable',
  ...extra,
});

describe('build-push with the oci builder against a real registry', () => {
  let digest: string;

  it('pushes an image whose tags, config and layer skopeo reads back', async () => {
    const step = await runStep('build-push', 'main', {
      inputs: ociInputs(`${proxy.host}/app`),
      env: { ...event, SOURCE_DATE_EPOCH: '1700000000' },
    });
    expect(step.errors).toEqual([]);
    expect(step.code).toBe(0);
    digest = step.outputs.digest!;
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(step.outputs.image).toBe(`${proxy.host}/app@${digest}`);
    expect(step.outputs.tags!.split('\n')).toEqual(['v1', 'stable', 'sha-0123456', 'main', 'latest'].map((t) => `${proxy.host}/app:${t}`));
    const metadata = JSON.parse(step.outputs.metadata!);
    expect(metadata.builder).toBe('oci');
    expect(metadata.digest).toBe(digest);

    const repo = `${registry.host}/app`;
    expect(skopeoTags(repo)!.sort()).toEqual(['latest', 'main', 'sha-0123456', 'stable', 'v1']);
    for (const tag of ['v1', 'latest', 'sha-0123456']) expect(skopeoInspect(`${repo}:${tag}`).Digest).toBe(digest);
    expect(skopeoInspect(`${repo}@${digest}`).Digest).toBe(digest);

    const config = skopeoConfig(`${repo}@${digest}`);
    expect(config.architecture).toBe('amd64');
    expect(config.created).toBe('2023-11-14T22:13:20Z');
    expect(config.config).toMatchObject({
      Entrypoint: ['node', 'server.js'],
      Env: ['NODE_ENV=production', 'GREETING=hello world'],
      WorkingDir: '/app',
      User: '65532:65532',
      ExposedPorts: { '8080/tcp': {} },
      Labels: {
        'org.opencontainers.image.vendor': 'Acme',
        'org.opencontainers.image.source': 'https://github.com/acme/api',
        'org.opencontainers.image.revision': SHA,
        'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
        'org.opencontainers.image.version': 'v1',
        'org.opencontainers.image.title': 'api',
      },
    });

    const listing = await skopeoLayerListing(`${repo}@${digest}`);
    const entries = listing.map((line) => line.split(/\s+/));
    expect(entries.map((e) => e.at(-1))).toEqual(['app/', 'app/lib/', 'app/lib/util.js', 'app/run.sh', 'app/server.js']);
    expect(entries.map((e) => e[0])).toEqual(['drwxr-xr-x', 'drwxr-xr-x', '-rw-r--r--', '-rwxr-xr-x', '-rw-r--r--']);
    for (const e of entries) expect(e[1]).toBe('0/0');
    for (const e of entries) expect(`${e[3]} ${e[4]}`).toBe('2023-11-14 22:13');
    expect(await skopeoLayerFile(`${repo}@${digest}`, 'app/server.js')).toBe('console.log("hello from shipgate");\n');
  });

  it('gives the same digest from a fresh checkout and uploads no blob bytes when pushed again', async () => {
    proxy.reset();
    const step = await runStep('build-push', 'main', {
      inputs: ociInputs(`${proxy.host}/app`, { context: await freshCheckout(context) }),
      env: { ...event, SOURCE_DATE_EPOCH: '1700000000' },
    });
    expect(step.errors).toEqual([]);
    expect(step.outputs.digest).toBe(digest);
    expect(proxy.uploadedBytes()).toBe(0);
    expect(JSON.parse(step.outputs.metadata!).blobs).toMatchObject({ uploaded: 0, uploadedBytes: 0 });
  });

  it('gives the same digest in a repository that has never seen the image (no reuse involved)', async () => {
    const step = await runStep('build-push', 'main', {
      inputs: ociInputs(`${proxy.host}/fresh`, { context: await freshCheckout(context) }),
      env: { ...event, SOURCE_DATE_EPOCH: '1700000000' },
    });
    expect(step.errors).toEqual([]);
    expect(step.outputs.digest).toBe(digest);
    expect(JSON.parse(step.outputs.metadata!).layer.reused).toBe(false);
  });

  it('copies an image by digest to another repository by mounting, without re-uploading', async () => {
    proxy.reset();
    const step = await runStep('build-push', 'main', {
      inputs: { image: `${proxy.host}/promoted`, source: `${proxy.host}/app@${digest}`, tags: 'production' },
    });
    expect(step.errors).toEqual([]);
    expect(step.code).toBe(0);
    expect(step.outputs.digest).toBe(digest);
    expect(step.outputs.image).toBe(`${proxy.host}/promoted@${digest}`);
    expect(proxy.uploadedBytes()).toBe(0);
    expect(proxy.requests().filter((r) => r.startsWith('POST') && r.includes('/promoted/blobs/uploads/')).length).toBeGreaterThan(0);
    expect(JSON.parse(step.outputs.metadata!).blobs).toMatchObject({ uploaded: 0, mounted: 2 });
    expect(skopeoInspect(`${registry.host}/promoted:production`).Digest).toBe(digest);
  });
});
