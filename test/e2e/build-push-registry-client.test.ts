import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferBlob } from '../../src/registry/blob-sources.ts';
import { RegistryClient, sha256Digest } from '../../src/registry/client.ts';
import { MediaTypes } from '../../src/registry/media-types.ts';
import { type CountingProxy, type Registry, startCountingProxy, startRegistry, stopRegistries } from '../support/registry.ts';

let registry: Registry;
let proxy: CountingProxy;
beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startCountingProxy(registry.host);
});
afterAll(stopRegistries);

describe('the registry client against docker-registry', () => {
  it('uploads a large blob in chunks, then skips it, and reads it back', async () => {
    const client = new RegistryClient(proxy.host, { chunkSize: 1024 * 1024 });
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const blob = bufferBlob(bytes, sha256Digest(bytes));
    proxy.reset();
    expect(await client.pushBlob('chunks', blob)).toBe('uploaded');
    expect(proxy.requests().filter((r) => r.startsWith('PATCH'))).toHaveLength(4);
    expect(proxy.uploadedBytes()).toBe(bytes.length);
    expect(await client.pushBlob('chunks', blob)).toBe('exists');
    expect((await client.getBlobBytes('chunks', blob.digest)).equals(bytes)).toBe(true);
    expect(await client.pushBlob('elsewhere', blob, 'chunks')).toBe('mounted');
  });

  it('uploads a blob as it is made, in one streamed PATCH, retrying a 503 with a fresh stream', async () => {
    const client = new RegistryClient(proxy.host, { minRetryDelayMs: 20 });
    const bytes = randomBytes(2 * 1024 * 1024 + 5);
    let made = 0;
    const produce = () => {
      made += 1;
      return {
        body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
        done: Promise.resolve({ digest: sha256Digest(bytes), size: bytes.length }),
      };
    };
    proxy.reset();
    proxy.failNext(503, 1);
    expect(await client.pushProduced('streamed', produce)).toEqual({ digest: sha256Digest(bytes), size: bytes.length });
    expect(made).toBe(1);
    expect(proxy.requests().filter((r) => r.startsWith('PATCH'))).toHaveLength(1);
    expect(proxy.uploadedBytes()).toBe(bytes.length);
    expect((await client.getBlobBytes('streamed', sha256Digest(bytes))).equals(bytes)).toBe(true);
  });

  it('retries 503 and 429 with backoff, and resolves a tag to its digest', async () => {
    const client = new RegistryClient(proxy.host, { minRetryDelayMs: 20 });
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await client.pushBlob('retry', bufferBlob(config, sha256Digest(config)));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.OciManifest,
        config: { mediaType: MediaTypes.OciConfig, digest: sha256Digest(config), size: config.length },
        layers: [],
      }),
    );
    proxy.failNext(503, 2);
    const digest = await client.putManifest('retry', 'v1', { bytes: manifest, mediaType: MediaTypes.OciManifest });
    proxy.failNext(429, 1);
    expect(await client.resolveDigest('retry', 'v1')).toBe(digest);
    expect(await client.getManifest('retry', 'missing')).toBeUndefined();
  });

  it('names the image and what to check on a 404', async () => {
    const client = new RegistryClient(registry.host);
    await expect(client.resolveDigest('nothing/here', 'v1')).rejects.toThrow(
      /^127\.0\.0\.1:\d+\/nothing\/here: resolving v1 not found \(404\)\. Check the registry, repository name, tag or digest/,
    );
  });
});
