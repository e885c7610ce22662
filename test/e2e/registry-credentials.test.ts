import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/client.ts';
import {
  acceptUploads,
  answer,
  type HostileServer,
  nonLoopbackAddress,
  redirectingRegistry,
  selfSigned,
  startHostile,
  stopHostile,
} from '../support/hostile.ts';
import { runStep } from '../support/runner.ts';

/**
 * Issue 11 §2: credentials go only where they were asked for. A registry (or whoever answers as
 * one) that points uploads or its token service at another origin gets the push done, or refused,
 * without that origin ever seeing the Basic credentials or a token.
 */
const USER = 'shipgate';
const PASSWORD = 'correct horse battery staple';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const credentials = { username: USER, password: PASSWORD };

let context: string;
beforeAll(async () => {
  context = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
  await writeFile(join(context, 'index.html'), '<h1>hi</h1>\n');
});
afterEach(stopHostile);
afterAll(stopHostile);

const push = (image: string, extra: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runStep('build-push', 'main', {
    inputs: { image, builder: 'oci', context, tags: 'v1', username: USER, password: PASSWORD, ...extra },
    env,
    timeoutMs: 90_000,
  });

const authorizations = (server: HostileServer) => server.seen.map((r) => r.headers.authorization).filter(Boolean);

describe('an upload Location on another origin', () => {
  it('gets the blobs but never the credentials; the registry that challenged gets them', async () => {
    const uploads = await startHostile(acceptUploads);
    const registry = await startHostile(redirectingRegistry(credentials, () => uploads.url));
    const step = await push(`${registry.host}/app`);
    expect(step.errors).toEqual([]);
    expect(step.code).toBe(0);
    // Both blobs (layer and config) went to the other port: a PATCH or PUT each, none with credentials.
    expect(uploads.seen.map((r) => r.method)).toEqual(expect.arrayContaining(['PATCH', 'PUT', 'PUT']));
    expect(authorizations(uploads)).toEqual([]);
    // The registry got Basic on every request after its challenge, the manifest PUT included.
    expect(registry.seen.slice(1).every((r) => r.headers.authorization === BASIC)).toBe(true);
    expect(registry.seen.some((r) => r.method === 'PUT' && r.path === '/v2/app/manifests/v1')).toBe(true);
  });

  it('is refused, not answered, when it asks for credentials itself', async () => {
    const uploads = await startHostile(answer(401, { 'www-authenticate': 'Basic realm="give me yours"' }));
    const registry = await startHostile(redirectingRegistry(credentials, () => uploads.url));
    const step = await push(`${registry.host}/app`);
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toContain(`${uploads.url} asked for credentials while`);
    expect(step.errors[0]).toContain('Shipgate sends credentials only to the registry that asked for them');
    expect(uploads.seen.length).toBeGreaterThan(0);
    expect(authorizations(uploads)).toEqual([]);
  });

  it('on the same host over plain HTTP, from an HTTPS registry, gets no credentials', async () => {
    const address = nonLoopbackAddress();
    if (!address) return console.warn('no non-loopback IPv4 address: an HTTPS registry needs one (loopback is always plain HTTP)');
    const cert = selfSigned([address]);
    const plain = await startHostile(acceptUploads, { listen: address });
    // The HTTPS registry sends its uploads to http://<same address>:<other port>.
    const registry = await startHostile(
      redirectingRegistry(credentials, () => plain.url),
      { listen: address, tls: cert },
    );
    const step = await push(`${registry.host}/app`, {}, { NODE_EXTRA_CA_CERTS: cert.file });
    expect(step.errors).toEqual([]);
    expect(registry.url).toMatch(/^https:/);
    expect(plain.seen.length).toBeGreaterThan(0);
    expect(authorizations(plain)).toEqual([]);
  });
});

describe('a Bearer token service', () => {
  /** A registry that challenges for a Bearer token from `realm`, and accepts any token it then gets. */
  const bearerRegistry = (realm: () => string) =>
    startHostile((req, res) => {
      req.resume();
      if (!req.headers.authorization?.startsWith('Bearer ')) {
        return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm()}",service="hostile"` }).end();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  const tokenService = (listen = '127.0.0.1') =>
    startHostile(answer(200, { 'content-type': 'application/json' }, '{"token":"a-token-for-the-registry-only"}'), { listen });

  it('on another host over plain HTTP gets no credentials: the step stops and says why', async () => {
    // 127.0.0.2 is loopback too, but not the registry's host (127.0.0.1).
    const tokens = await tokenService('127.0.0.2');
    const registry = await bearerRegistry(() => `${tokens.url}/token`);
    const step = await push(`${registry.host}/app`);
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(
      /sent its credentials' token service to plain-HTTP http:\/\/127\.0\.0\.2:\d+; .*The token service must use HTTPS/,
    );
    expect(tokens.seen).toEqual([]);
  });

  it('follows the rules, client by client', async () => {
    const sameHost = await tokenService();
    const otherHost = await tokenService('127.0.0.2');
    const check = async (realm: HostileServer, options: ConstructorParameters<typeof RegistryClient>[1]) => {
      const registry = await bearerRegistry(() => `${realm.url}/token`);
      const before = realm.seen.length;
      const masked: string[] = [];
      const outcome = await new RegistryClient(registry.host, { ...options, retries: 0, mask: (s) => masked.push(s) })
        .check('app', ['pull'])
        .then(
          () => 'ok',
          (error: Error) => error.message,
        );
      return { outcome, asked: realm.seen.slice(before), masked, registry };
    };

    // The registry's own host (another port), plain HTTP because the registry is loopback: allowed, with credentials.
    const own = await check(sameHost, { credentials });
    expect(own.outcome).toBe('ok');
    expect(own.asked.map((r) => r.headers.authorization)).toEqual([BASIC]);
    expect(own.masked).toEqual([PASSWORD, BASIC.slice(6), 'a-token-for-the-registry-only']);
    // The token goes only to the registry.
    expect(own.registry.seen.at(-1)!.headers.authorization).toBe('Bearer a-token-for-the-registry-only');

    // Another host over plain HTTP: refused with credentials…
    const other = await check(otherHost, { credentials });
    expect(other.outcome).toMatch(/plain-HTTP http:\/\/127\.0\.0\.2/);
    expect(other.asked).toEqual([]);
    // …but an anonymous client risks nothing there and may fetch its token.
    const anonymous = await check(otherHost, {});
    expect(anonymous.outcome).toBe('ok');
    expect(anonymous.asked.map((r) => r.headers.authorization)).toEqual([undefined]);
  });
});
