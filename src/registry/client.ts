import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import pRetry from 'p-retry';
import { type Dispatcher, request } from 'undici';
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import { basicAuthorization, type Challenge, type Credentials, mergeScopes, parseChallenge, repositoryScope } from './auth.ts';
import { RegistryError, registryErrorDetail, statusAdvice } from './errors.ts';
import { MANIFEST_ACCEPT } from './media-types.ts';
import { apiHost, isLoopback } from './reference.ts';

/** Bytes of a blob that can be read again from any offset (a file) or only from the start (a download). */
export interface BlobSource {
  digest: string;
  size: number;
  /** A fresh stream of bytes [start, end), so an upload can be retried or sent in chunks. */
  open(start: number, end: number): Promise<Readable | Buffer>;
  /** Only a seekable source is sent in chunks: a download can only be read once, start to end. */
  seekable: boolean;
}

/**
 * A blob made as it is sent: its bytes, and its digest and size once they have all been read.
 * Made again from the start for each attempt, so it must give the same bytes every time.
 */
export interface ProducedBlob<T extends { digest: string; size: number } = { digest: string; size: number }> {
  body: Readable;
  done: Promise<T>;
}

export interface RegistryClientOptions {
  credentials?: Credentials;
  /** Speak plain HTTP to a registry that is not on a loopback address. */
  insecure?: boolean;
  retries?: number;
  minRetryDelayMs?: number;
  /** Seekable blobs larger than this go up in PATCH chunks of this size; smaller ones in one PUT. */
  chunkSize?: number;
  logger?: Logger;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export type BlobOutcome = 'exists' | 'mounted' | 'uploaded';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';

interface Call {
  method: Method;
  /** A path under the registry, or an absolute URL the registry gave (upload locations). */
  url: string;
  repository: string;
  scopes: string[];
  what: string;
  ok: number[];
  headers?: Record<string, string>;
  body?: () => Promise<Readable | Buffer | undefined>;
  retry?: boolean;
}

const DEFAULT_CHUNK = 64 * 1024 * 1024;

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function header(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A client for one registry speaking the OCI distribution API. It follows the registry's auth
 * challenge (Basic, or a Bearer token fetched from the realm it names, one per set of scopes),
 * retries 429/5xx and network failures with backoff, and turns 401/403/404 into errors that name
 * the image and what to check.
 */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly credentials: Credentials | undefined;
  private readonly retries: number;
  private readonly minRetryDelayMs: number;
  private readonly chunkSize: number;
  private readonly logger: Logger;
  /** Learnt from the first challenge, so later requests carry auth from the start. */
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    const plain = isLoopback(registry) || options.insecure === true;
    this.baseUrl = `${plain ? 'http' : 'https'}://${apiHost(registry)}`;
    this.credentials = options.credentials;
    this.retries = options.retries ?? 4;
    this.minRetryDelayMs = options.minRetryDelayMs ?? 500;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
    this.logger = options.logger ?? silentLogger;
  }

  /** Checks that the registry answers and the credentials hold for these actions, before any work. */
  async check(repository: string, actions: readonly string[]): Promise<void> {
    const scopes = [repositoryScope(repository, actions)];
    await this.call({ method: 'GET', url: '/v2/', repository, scopes, what: 'signing in', ok: [200] });
    // A token server only refuses a scope when asked for it: ask now rather than mid-push.
    if (this.challenge?.scheme === 'bearer') await this.authorization(scopes);
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    const response = await this.call({
      method: 'HEAD',
      url: `/v2/${repository}/blobs/${digest}`,
      repository,
      scopes: [repositoryScope(repository, ['pull'])],
      what: `checking blob ${digest.slice(0, 19)}`,
      ok: [200, 307, 404],
    });
    await response.body.dump();
    return response.statusCode !== 404;
  }

  /**
   * Puts a blob in `repository` the cheapest way: nothing when it is there, a cross-repository
   * mount when `mountFrom` (a repository of this registry) has it, an upload otherwise.
   */
  async pushBlob(repository: string, source: BlobSource, mountFrom?: string): Promise<BlobOutcome> {
    if (await this.blobExists(repository, source.digest)) return 'exists';
    return pRetry(
      async () => {
        let location: string;
        if (mountFrom && mountFrom !== repository) {
          const response = await this.call({
            method: 'POST',
            url: `/v2/${repository}/blobs/uploads/?${new URLSearchParams({ mount: source.digest, from: mountFrom })}`,
            repository,
            scopes: [repositoryScope(repository, ['pull', 'push']), repositoryScope(mountFrom, ['pull'])],
            what: `mounting blob ${source.digest.slice(0, 19)} from ${mountFrom}`,
            ok: [201, 202],
            retry: false,
          });
          await response.body.dump();
          if (response.statusCode === 201) return 'mounted';
          // 202: the registry could not mount and opened an upload session instead.
          location = this.location(response);
        } else {
          location = await this.startUpload(repository, source.digest.slice(0, 19));
        }
        await this.upload(repository, source, location);
        return 'uploaded';
      },
      this.retryOptions(`pushing blob ${source.digest.slice(0, 19)}`),
    );
  }

  /**
   * Uploads a blob while it is being made, when its digest is only known at the end: one streamed
   * PATCH, then the PUT naming the digest, which the registry checks. Nothing is held or written
   * to disk and making overlaps sending. There is no HEAD first (the digest is not known yet), so
   * content already in the repository under another tag is sent again; the registry keeps one copy.
   */
  async pushProduced<T extends { digest: string; size: number }>(repository: string, produce: () => ProducedBlob<T>): Promise<T> {
    return pRetry(async () => {
      const location = await this.startUpload(repository, 'being made');
      let blob: ProducedBlob<T> | undefined;
      try {
        const patched = await this.call({
          method: 'PATCH',
          url: location,
          repository,
          scopes: [repositoryScope(repository, ['pull', 'push'])],
          what: 'uploading a blob as it is made',
          ok: [202],
          retry: false,
          headers: { 'content-type': 'application/octet-stream' },
          // A new stream for each send: a request sent again after an auth challenge must not reuse a read one.
          body: async () => {
            blob?.body.destroy();
            blob = produce();
            blob.done.catch(() => {});
            return blob.body;
          },
        });
        await patched.body.dump();
        const made = await blob!.done;
        await this.finishUpload(repository, this.location(patched), made.digest);
        return made;
      } finally {
        // A failed attempt leaves its stream half read: close its files before making another.
        blob?.body.destroy();
      }
    }, this.retryOptions('uploading a blob as it is made'));
  }

  /** Streams a blob's bytes, following the redirect to storage that registries often answer with. */
  async getBlob(repository: string, digest: string): Promise<Readable> {
    const response = await this.call({
      method: 'GET',
      url: `/v2/${repository}/blobs/${digest}`,
      repository,
      scopes: [repositoryScope(repository, ['pull'])],
      what: `reading blob ${digest.slice(0, 19)}`,
      ok: [200, 301, 302, 303, 307, 308],
    });
    if (response.statusCode === 200) return response.body;
    await response.body.dump();
    // Storage URLs are signed: they take no registry credentials.
    const redirected = await request(new URL(this.location(response)), { method: 'GET' });
    if (redirected.statusCode !== 200) {
      await redirected.body.dump();
      throw new RegistryError(
        `${this.image(repository)}: reading blob ${digest.slice(0, 19)} from storage failed with HTTP ${redirected.statusCode}`,
        redirected.statusCode,
      );
    }
    return redirected.body;
  }

  async getBlobBytes(repository: string, digest: string): Promise<Buffer> {
    const body = await this.getBlob(repository, digest);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (sha256Digest(bytes) !== digest) throw new RegistryError(`${this.image(repository)}: blob ${digest} does not match its digest`);
    return bytes;
  }

  /** The manifest or index a tag or digest names; undefined when there is none (404). */
  async getManifest(repository: string, reference: string): Promise<Manifest | undefined> {
    const response = await this.call({
      method: 'GET',
      url: `/v2/${repository}/manifests/${reference}`,
      repository,
      scopes: [repositoryScope(repository, ['pull'])],
      what: `reading manifest ${reference}`,
      ok: [200, 404],
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new RegistryError(`${this.image(repository)}: the manifest served for ${reference} has digest ${digest}`);
    }
    const mediaType =
      (header(response, 'content-type') ?? '').split(';')[0]!.trim() ||
      (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ||
      '';
    return { digest, mediaType, bytes };
  }

  /** Resolves a tag (or checks a digest) to the digest of what it points at; deploy and revert use this. */
  async resolveDigest(repository: string, reference: string): Promise<string> {
    const response = await this.call({
      method: 'HEAD',
      url: `/v2/${repository}/manifests/${reference}`,
      repository,
      scopes: [repositoryScope(repository, ['pull'])],
      what: `resolving ${reference}`,
      ok: [200],
      headers: { accept: MANIFEST_ACCEPT },
    });
    await response.body.dump();
    const digest = header(response, 'docker-content-digest');
    if (digest) return digest;
    const manifest = await this.getManifest(repository, reference);
    if (!manifest) throw new RegistryError(statusAdvice(404, this.image(repository), `resolving ${reference}`), 404);
    return manifest.digest;
  }

  /** PUTs a manifest under a tag or its digest; done last, once every blob it names is there. */
  async putManifest(repository: string, reference: string, manifest: { bytes: Buffer; mediaType: string }): Promise<string> {
    const digest = sha256Digest(manifest.bytes);
    const response = await this.call({
      method: 'PUT',
      url: `/v2/${repository}/manifests/${reference}`,
      repository,
      scopes: [repositoryScope(repository, ['pull', 'push'])],
      what: `pushing manifest ${reference}`,
      ok: [201],
      headers: { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.length) },
      body: async () => manifest.bytes,
    });
    await response.body.dump();
    const stored = header(response, 'docker-content-digest');
    if (stored && stored !== digest)
      throw new RegistryError(`${this.image(repository)}: the registry stored manifest ${reference} as ${stored}, expected ${digest}`);
    return digest;
  }

  private async startUpload(repository: string, blob: string): Promise<string> {
    const response = await this.call({
      method: 'POST',
      url: `/v2/${repository}/blobs/uploads/`,
      repository,
      scopes: [repositoryScope(repository, ['pull', 'push'])],
      what: `starting the upload of blob ${blob}`,
      ok: [202],
      retry: false,
    });
    await response.body.dump();
    return this.location(response);
  }

  /** One PUT for small or unseekable blobs; PATCH chunks then an empty PUT for large files. */
  private async upload(repository: string, source: BlobSource, location: string): Promise<void> {
    if (!source.seekable || source.size <= this.chunkSize) {
      await this.finishUpload(repository, location, source.digest, { length: source.size, body: () => source.open(0, source.size) });
      return;
    }
    let url = location;
    for (let start = 0; start < source.size; start += this.chunkSize) {
      const end = Math.min(start + this.chunkSize, source.size);
      const response = await this.call({
        method: 'PATCH',
        url,
        repository,
        scopes: [repositoryScope(repository, ['pull', 'push'])],
        what: `uploading blob ${source.digest.slice(0, 19)}`,
        ok: [202],
        retry: false,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(end - start),
          'content-range': `${start}-${end - 1}`,
        },
        body: () => source.open(start, end),
      });
      await response.body.dump();
      url = this.location(response);
    }
    await this.finishUpload(repository, url, source.digest);
  }

  /** The PUT that closes an upload session, naming the digest the registry must find; with the bytes left to send, if any. */
  private async finishUpload(
    repository: string,
    location: string,
    digest: string,
    rest?: { length: number; body: () => Promise<Readable | Buffer> },
  ): Promise<void> {
    const finish = new URL(location, this.baseUrl);
    finish.searchParams.set('digest', digest);
    const response = await this.call({
      method: 'PUT',
      url: finish.toString(),
      repository,
      scopes: [repositoryScope(repository, ['pull', 'push'])],
      what: `uploading blob ${digest.slice(0, 19)}`,
      ok: [201],
      retry: false,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(rest?.length ?? 0) },
      ...(rest ? { body: rest.body } : {}),
    });
    await response.body.dump();
  }

  private location(response: Dispatcher.ResponseData): string {
    const location = header(response, 'location');
    if (!location) throw new RegistryError(`${this.baseUrl} answered ${response.statusCode} without a Location header`);
    return new URL(location, this.baseUrl).toString();
  }

  private image(repository: string): string {
    return `${this.registry}/${repository}`;
  }

  private retryOptions(what: string) {
    return {
      retries: this.retries,
      minTimeout: this.minRetryDelayMs,
      factor: 2,
      shouldRetry: ({ error }: { error: Error }) => error instanceof RegistryError && error.retriable,
      onFailedAttempt: ({ error, retriesLeft }: { error: Error; retriesLeft: number }) => {
        if (error instanceof RegistryError && error.retriable && retriesLeft > 0) this.logger.info(`${what}: ${error.message}; retrying`);
      },
    };
  }

  private async call(call: Call): Promise<Dispatcher.ResponseData> {
    const attempt = async () => {
      const response = await this.send(call);
      if (call.ok.includes(response.statusCode)) return response;
      const detail = call.method === 'HEAD' ? '' : registryErrorDetail(await response.body.text().catch(() => ''));
      if (call.method === 'HEAD') await response.body.dump();
      throw new RegistryError(
        `${statusAdvice(response.statusCode, this.image(call.repository), call.what)}${detail ? ` (${detail})` : ''}`,
        response.statusCode,
      );
    };
    return call.retry === false ? attempt() : pRetry(attempt, this.retryOptions(call.what));
  }

  /** One request, answering the registry's auth challenge once if it makes one. */
  private async send(call: Call): Promise<Dispatcher.ResponseData> {
    const url = new URL(call.url, this.baseUrl);
    const attempt = async (authorization: string | undefined) => {
      try {
        return await request(url, {
          method: call.method,
          headers: { ...call.headers, ...(authorization ? { authorization } : {}) },
          body: (await call.body?.()) ?? null,
        });
      } catch (error) {
        throw this.networkError(error, call);
      }
    };
    const response = await attempt(await this.authorization(call.scopes));
    if (response.statusCode !== 401) return response;
    const challenge = parseChallenge(header(response, 'www-authenticate') ?? '');
    const known = this.challenge;
    this.challenge = challenge;
    // The same Basic challenge again means the credentials we sent were refused: report that 401.
    if (!challenge || (challenge.scheme === 'basic' && (known?.scheme === 'basic' || !this.credentials))) return response;
    if (challenge.scheme !== 'basic' && challenge.scheme !== 'bearer') return response;
    await response.body.dump();
    const scopes = mergeScopes([...(challenge.params.scope?.split(' ') ?? []), ...call.scopes]);
    if (challenge.scheme === 'bearer') this.tokens.delete(scopes.join(' '));
    return attempt(await this.authorization(scopes));
  }

  private async authorization(scopes: string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.credentials ? basicAuthorization(this.credentials) : undefined;
    if (challenge.scheme !== 'bearer') return undefined;
    const key = mergeScopes(scopes).join(' ');
    let token = this.tokens.get(key);
    if (!token) {
      token = this.fetchToken(challenge, mergeScopes(scopes));
      this.tokens.set(key, token);
      token.catch(() => this.tokens.delete(key));
    }
    return `Bearer ${await token}`;
  }

  /** The token dance: ask the realm for a token covering the scopes, with Basic credentials if any. */
  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.baseUrl} asked for a Bearer token without naming a realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const image = this.image(scopes.map((s) => s.split(':')[1]).find(Boolean) ?? '');
    const response = await pRetry(async () => {
      let reply: Dispatcher.ResponseData;
      try {
        reply = await request(url, {
          method: 'GET',
          headers: this.credentials ? { authorization: basicAuthorization(this.credentials) } : {},
        });
      } catch (error) {
        throw new RegistryError(`could not reach the token service ${url.origin}: ${(error as Error).message}`);
      }
      if (reply.statusCode === 200) return reply;
      const detail = registryErrorDetail(await reply.body.text().catch(() => ''));
      throw new RegistryError(
        `${statusAdvice(reply.statusCode, image, 'getting a token')}${detail ? ` (${detail})` : ''}`,
        reply.statusCode,
      );
    }, this.retryOptions('getting a token'));
    const body = (await response.body.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`the token service ${url.origin} answered without a token`);
    return token;
  }

  private networkError(error: unknown, call: Call): RegistryError {
    const cause = error as { code?: string; message?: string; cause?: { code?: string } };
    const code = cause.code ?? cause.cause?.code ?? '';
    const hint = /SSL|TLS|EPROTO|ERR_SSL/i.test(`${code} ${cause.message}`)
      ? ': it may not speak HTTPS (set insecure: true for a plain-HTTP registry that is not on a loopback address)'
      : '. Check the registry host and port in the image name';
    return new RegistryError(
      `${this.image(call.repository)}: could not reach ${this.baseUrl} while ${call.what} (${code || cause.message})${hint}`,
    );
  }
}
