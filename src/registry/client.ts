import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import pRetry from 'p-retry';
import type { Dispatcher } from 'undici';
import { CancelledError, cancelled } from '../core/cancel.ts';
import { BodyTooLargeError, DeadlineError, formatBytes, parseJson, readBounded, send } from '../core/http.ts';
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import { logText } from '../core/untrusted.ts';
import { basicAuthorization, type Challenge, type Credentials, mergeScopes, parseChallenge, repositoryScope } from './auth.ts';
import { RegistryError, registryErrorDetail, statusAdvice } from './errors.ts';
import { MANIFEST_ACCEPT } from './media-types.ts';
import { apiHost, isLoopback, isValidDigest } from './reference.ts';

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
  /**
   * Told every secret form of the credentials (the password, the Basic header's base64) and every
   * token fetched, so the log hides them (the action passes core.setSecret).
   */
  mask?: (secret: string) => void;
  /** A call that has no answer within this fails (default 30 s); one such silence is retried once. */
  timeoutMs?: number;
  /** A blob transfer that moves no byte for this long fails (default 60 s); its total is not bounded. */
  stallMs?: number;
  /** Retries of one operation end once this much time has passed since it began (default 2 min). */
  retryBudgetMs?: number;
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
  /** A blob's bytes go up or come down: bounded by progress, not by a total. */
  bulk?: boolean;
}

const DEFAULT_CHUNK = 64 * 1024 * 1024;
/** distribution (docker-registry) itself refuses manifests over 4 MiB. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;
/** Image configs are a few KiB; a base with a history of thousands of steps stays far below this. */
export const CONFIG_LIMIT = 8 * 1024 * 1024;
const ERROR_BODY_LIMIT = 64 * 1024;
const TOKEN_LIMIT = 256 * 1024;

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
 * retries 429/5xx and network failures with backoff within a time budget, and turns 401/403/404
 * into errors that name the image and what to check.
 *
 * Credentials go only where they were asked for, as Docker sends them: the registry's Basic
 * credentials and Bearer tokens only to the registry's own origin (scheme, host and port), never to
 * an upload or storage location elsewhere; the Basic credentials to a token service only over
 * HTTPS, or over plain HTTP when the registry itself is spoken to in plain HTTP (loopback or
 * `insecure`) and the token service is on the registry's own host.
 */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  /** The origin that challenges for credentials and the only one that ever receives them. */
  private readonly origin: string;
  private readonly plain: boolean;
  private readonly credentials: Credentials | undefined;
  private readonly retries: number;
  private readonly minRetryDelayMs: number;
  private readonly chunkSize: number;
  private readonly logger: Logger;
  private readonly mask: (secret: string) => void;
  private readonly timeoutMs: number;
  private readonly stallMs: number;
  private readonly retryBudgetMs: number;
  /** Learnt from the first challenge, so later requests carry auth from the start. */
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    this.plain = isLoopback(registry) || options.insecure === true;
    this.baseUrl = `${this.plain ? 'http' : 'https'}://${apiHost(registry)}`;
    this.origin = new URL(this.baseUrl).origin;
    this.credentials = options.credentials;
    this.retries = options.retries ?? 4;
    this.minRetryDelayMs = options.minRetryDelayMs ?? 500;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
    this.logger = options.logger ?? silentLogger;
    this.mask = options.mask ?? (() => {});
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.stallMs = options.stallMs ?? 60_000;
    this.retryBudgetMs = options.retryBudgetMs ?? 120_000;
    if (this.credentials) {
      this.mask(this.credentials.password);
      this.mask(basicAuthorization(this.credentials).slice('Basic '.length));
    }
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
          bulk: true,
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

  /**
   * Streams a blob's bytes, following the redirect to storage that registries often answer with;
   * storage on another origin gets none of the registry's credentials (see `send`).
   */
  async getBlob(repository: string, digest: string): Promise<Readable> {
    const call: Call = {
      method: 'GET',
      url: `/v2/${repository}/blobs/${digest}`,
      repository,
      scopes: [repositoryScope(repository, ['pull'])],
      what: `reading blob ${digest.slice(0, 19)}`,
      ok: [200, 301, 302, 303, 307, 308],
      bulk: true,
    };
    const response = await this.call(call);
    if (response.statusCode === 200) return response.body;
    await response.body.dump();
    const redirected = await this.call({ ...call, url: this.location(response), ok: [200], what: `${call.what} from storage` });
    return redirected.body;
  }

  /** A small blob (an image config) read whole, at most `limit` bytes, and checked against its digest. */
  async getBlobBytes(repository: string, digest: string, limit = CONFIG_LIMIT): Promise<Buffer> {
    const body = await this.getBlob(repository, digest);
    const bytes = await readBounded(body, limit, `${this.image(repository)}: blob ${digest.slice(0, 19)}`);
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
    const what = `${this.image(repository)}: the manifest for ${reference}`;
    const length = Number(header(response, 'content-length'));
    if (length > MANIFEST_LIMIT) {
      response.body.destroy();
      throw new BodyTooLargeError(`${what} (${formatBytes(length)})`, MANIFEST_LIMIT);
    }
    const bytes = await readBounded(response.body, MANIFEST_LIMIT, what);
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new RegistryError(`${this.image(repository)}: the manifest served for ${reference} has digest ${digest}`);
    }
    const declared = (header(response, 'content-type') ?? '').split(';')[0]!.trim();
    const mediaType = declared || mediaTypeField(parseJson(bytes.toString('utf8'), what, 'an image manifest or index'));
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
    // The header is the registry's word; one that is not a digest is ignored and the manifest hashed instead.
    const digest = header(response, 'docker-content-digest');
    if (digest && isValidDigest(digest)) return digest;
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
      throw new RegistryError(
        `${this.image(repository)}: the registry stored manifest ${reference} as ${logText(stored, 100)}, expected ${digest}`,
      );
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
        bulk: true,
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
      bulk: rest !== undefined,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(rest?.length ?? 0) },
      ...(rest ? { body: rest.body } : {}),
    });
    await response.body.dump();
  }

  private location(response: Dispatcher.ResponseData): string {
    const location = header(response, 'location');
    if (!location) throw new RegistryError(`${this.baseUrl} answered ${response.statusCode} without a Location header`);
    try {
      const url = new URL(location, this.baseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      return url.toString();
    } catch {
      throw new RegistryError(
        `${this.baseUrl} answered with a Location that is not an http(s) URL: "${logText(location, 100)}"`,
        undefined,
        {
          retriable: false,
        },
      );
    }
  }

  private image(repository: string): string {
    return `${this.registry}/${repository}`;
  }

  /**
   * Backoff for 429, 5xx and network failures, within the retry budget; a registry that gave no
   * answer at all is asked once more, not four times; the run's cancellation ends the waiting.
   */
  private retryOptions(what: string) {
    let silences = 0;
    return {
      retries: this.retries,
      minTimeout: this.minRetryDelayMs,
      factor: 2,
      maxRetryTime: this.retryBudgetMs,
      signal: cancelled,
      shouldRetry: ({ error, retriesLeft }: { error: Error; retriesLeft: number }) => {
        if (!(error instanceof RegistryError) || !error.retriable) return false;
        if (error.silent && ++silences > 1) return false;
        if (retriesLeft > 0) this.logger.info(`${what}: ${error.message}; retrying`);
        return true;
      },
    };
  }

  private async call(call: Call): Promise<Dispatcher.ResponseData> {
    const attempt = async () => {
      const response = await this.send(call);
      if (call.ok.includes(response.statusCode)) return response;
      const detail = call.method === 'HEAD' ? '' : await errorDetail(response);
      if (call.method === 'HEAD') await response.body.dump();
      throw new RegistryError(
        `${statusAdvice(response.statusCode, this.image(call.repository), call.what)}${detail ? ` (${detail})` : ''}`,
        response.statusCode,
      );
    };
    return call.retry === false ? attempt() : pRetry(attempt, this.retryOptions(call.what));
  }

  /**
   * One request, answering the registry's auth challenge once if it makes one. Authorization goes
   * only to the registry's own origin: an upload location or storage URL on any other origin (even
   * the same host over another scheme or port) gets no credentials, and a challenge from there is
   * refused rather than answered.
   */
  private async send(call: Call): Promise<Dispatcher.ResponseData> {
    const url = new URL(call.url, this.baseUrl);
    const ours = url.origin === this.origin;
    const attempt = async (authorization: string | undefined) => {
      try {
        return await send(url, {
          method: call.method,
          headers: { ...call.headers, ...(authorization && ours ? { authorization } : {}) },
          body: (await call.body?.()) ?? null,
          timeoutMs: this.timeoutMs,
          ...(call.bulk ? { stallMs: this.stallMs } : {}),
        });
      } catch (error) {
        throw this.networkError(error, call, url);
      }
    };
    const response = await attempt(ours ? await this.authorization(call.scopes) : undefined);
    if (response.statusCode !== 401) return response;
    if (!ours) {
      await response.body.dump();
      throw new RegistryError(
        `${this.image(call.repository)}: ${logText(url.origin, 100)} asked for credentials while ${call.what}, but it is not the registry (${this.origin}); Shipgate sends credentials only to the registry that asked for them`,
        401,
        { retriable: false },
      );
    }
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

  /**
   * Where the token dance may send the credentials. Any https realm may have them (Docker Hub's is
   * auth.docker.io, not the registry); a plain-http realm only when the registry itself is spoken
   * to over plain HTTP (loopback or `insecure`) and the realm is on the registry's own host.
   */
  private realm(challenge: Challenge): URL {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.baseUrl} asked for a Bearer token without naming a realm`, undefined, { retriable: false });
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      url = new URL('invalid:');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError(`${this.baseUrl} named a token service that is not an http(s) URL: "${logText(realm, 100)}"`, undefined, {
        retriable: false,
      });
    }
    if (this.credentials && url.protocol === 'http:' && !(this.plain && url.hostname === new URL(this.baseUrl).hostname)) {
      throw new RegistryError(
        `${this.registry} sent its credentials' token service to plain-HTTP ${logText(url.origin, 100)}; Shipgate sends credentials over plain HTTP only to a registry on a loopback address or declared insecure, and only to that registry's own host. The token service must use HTTPS`,
        undefined,
        { retriable: false },
      );
    }
    return url;
  }

  /** The token dance: ask the realm for a token covering the scopes, with Basic credentials if any. */
  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<string> {
    const url = this.realm(challenge);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const image = this.image(scopes.map((s) => s.split(':')[1]).find(Boolean) ?? '');
    const service = `the token service ${logText(url.origin, 100)}`;
    const body = await pRetry(async () => {
      let reply: Dispatcher.ResponseData;
      try {
        reply = await send(url, {
          method: 'GET',
          headers: this.credentials ? { authorization: basicAuthorization(this.credentials) } : {},
          timeoutMs: this.timeoutMs,
        });
      } catch (error) {
        if (error instanceof CancelledError) throw error;
        throw new RegistryError(`could not reach ${service}: ${logText(errorText(error))}`, undefined, {
          silent: error instanceof DeadlineError,
        });
      }
      if (reply.statusCode === 200) return readBounded(reply.body, TOKEN_LIMIT, `${image}: the answer of ${service}`);
      const detail = await errorDetail(reply);
      throw new RegistryError(
        `${statusAdvice(reply.statusCode, image, 'getting a token')}${detail ? ` (${detail})` : ''}`,
        reply.statusCode,
      );
    }, this.retryOptions('getting a token'));
    const answer = parseJson(body.toString('utf8'), `${image}: ${service}`, 'a token');
    const token =
      typeof answer === 'object' && answer
        ? ((answer as Record<string, unknown>).token ?? (answer as Record<string, unknown>).access_token)
        : undefined;
    if (typeof token !== 'string' || !token)
      throw new RegistryError(`${service} answered without a token`, undefined, { retriable: false });
    this.mask(token);
    return token;
  }

  private networkError(error: unknown, call: Call, url: URL): Error {
    if (error instanceof CancelledError) return error;
    const image = this.image(call.repository);
    if (error instanceof DeadlineError)
      return new RegistryError(`${image}: ${error.message} while ${call.what}`, undefined, { silent: true });
    const cause = error as { code?: string; message?: string; cause?: { code?: string } };
    const code = cause.code ?? cause.cause?.code ?? '';
    const where = logText(url.origin, 100);
    const hint = /SSL|TLS|EPROTO|ERR_SSL/i.test(`${code} ${cause.message}`)
      ? ': it may not speak HTTPS (set insecure: true for a plain-HTTP registry that is not on a loopback address)'
      : url.origin === this.origin
        ? '. Check the registry host and port in the image name'
        : '';
    // A name that does not resolve will not resolve in a second either (EAI_AGAIN, a resolver hiccup, is retried).
    return new RegistryError(
      `${image}: could not reach ${where} while ${call.what} (${logText(code || errorText(error), 200)})${hint}`,
      undefined,
      {
        retriable: code !== 'ENOTFOUND',
      },
    );
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A registry's error body, read with a bound: its first error, or its first line. */
async function errorDetail(response: Dispatcher.ResponseData): Promise<string> {
  try {
    return registryErrorDetail((await readBounded(response.body, ERROR_BODY_LIMIT, 'an error body')).toString('utf8'));
  } catch {
    return '';
  }
}

function mediaTypeField(json: unknown): string {
  const value = typeof json === 'object' && json ? (json as { mediaType?: unknown }).mediaType : undefined;
  return typeof value === 'string' ? value : '';
}
