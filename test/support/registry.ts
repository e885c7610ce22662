import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { stringify } from 'yaml';
import { requirePrograms } from './programs.ts';
import { freePort, waitFor } from './services.ts';

/** A real distribution registry (Debian's docker-registry) and the helpers the build-push tests check it with. */
export interface Registry {
  /** host:port, e.g. 127.0.0.1:5123 */
  host: string;
  stop(): Promise<void>;
}

const stoppers = new Set<() => Promise<void>>();

/** Stops every registry and proxy the tests started. */
export async function stopRegistries(): Promise<void> {
  await Promise.all([...stoppers].map((stop) => stop()));
  stoppers.clear();
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
}

export const REGISTRY_USER = 'shipgate';
export const REGISTRY_PASSWORD = 'correct horse battery staple';

/** Starts docker-registry on 127.0.0.1 with storage in a temp dir; with `htpasswd`, behind basic auth (bcrypt). */
export async function startRegistry(options: { htpasswd?: boolean } = {}): Promise<Registry> {
  // The tests read what the registry serves with skopeo (and tar), so it is needed wherever a registry is.
  requirePrograms('docker-registry', 'skopeo', ...(options.htpasswd ? (['htpasswd'] as const) : []));
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-registry-'));
  const port = await freePort();
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}` },
  };
  if (options.htpasswd) {
    const line = execFileSync('htpasswd', ['-nbB', REGISTRY_USER, REGISTRY_PASSWORD]).toString().trim();
    await writeFile(join(dir, 'htpasswd'), `${line}\n`);
    config.auth = { htpasswd: { realm: 'shipgate-test', path: join(dir, 'htpasswd') } };
  }
  await writeFile(join(dir, 'config.yml'), stringify(config));
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
  const stop = () => stopChild(child);
  stoppers.add(stop);
  await waitFor(`docker-registry (${log})`, async () => {
    const response = await request(`http://127.0.0.1:${port}/v2/`);
    await response.body.dump();
    return response.statusCode === 200 || response.statusCode === 401 ? true : undefined;
  });
  return { host: `127.0.0.1:${port}`, stop };
}

export interface CountingProxy {
  host: string;
  /** Request body bytes sent to blob upload endpoints since the last reset. */
  uploadedBytes(): number;
  /** Requests seen since the last reset, as "METHOD path". */
  requests(): string[];
  reset(): void;
  /** Answers the next `count` requests with `status`, as an overloaded registry would. */
  failNext(status: number, count: number): void;
  stop(): Promise<void>;
}

/**
 * A proxy in front of a registry that counts the blob bytes uploaded through it. With `bearer`,
 * it also plays a token-auth registry: requests need `Authorization: Bearer` with a token from
 * its /token realm (given for those credentials) whose scopes cover the repository and action,
 * and a missing one is answered with the `WWW-Authenticate: Bearer …` challenge real registries send.
 */
export async function startCountingProxy(
  upstream: string,
  options: { bearer?: { username: string; password: string } } = {},
): Promise<CountingProxy> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let bytes = 0;
  let seen: string[] = [];
  const tokens = new Map<string, Set<string>>();
  let failures = { status: 0, count: 0 };
  const [upHost, upPort] = upstream.split(':');

  const needed = (method: string, url: URL): string[] => {
    const match = /^\/v2\/(.+?)\/(blobs|manifests|tags)\//.exec(url.pathname);
    if (!match) return [];
    const scopes = [`${match[1]}:${method === 'GET' || method === 'HEAD' ? 'pull' : 'push'}`];
    const from = url.searchParams.get('from');
    if (from) scopes.push(`${from}:pull`);
    return scopes;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, `http://${host}`);
    seen.push(`${req.method} ${url.pathname}`);
    if (failures.count > 0) {
      failures.count -= 1;
      req.resume();
      res.writeHead(failures.status, { 'retry-after': '0' }).end();
      return;
    }
    const bearer = options.bearer;
    if (bearer && url.pathname === '/token') {
      const expected = `Basic ${Buffer.from(`${bearer.username}:${bearer.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
        return;
      }
      const granted = new Set<string>();
      for (const scope of url.searchParams.getAll('scope')) {
        const [, repo, actions] = /^repository:(.+):([a-z,*]+)$/.exec(scope) ?? [];
        for (const action of actions?.split(',') ?? []) granted.add(`${repo}:${action}`);
      }
      const token = randomBytes(16).toString('hex');
      tokens.set(token, granted);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    if (bearer) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const granted = token ? tokens.get(token) : undefined;
      const wanted = needed(req.method!, url);
      if (!granted || wanted.some((s) => !granted.has(s))) {
        const scope = wanted.map((s) => `repository:${s}`).join(' ');
        res
          .writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': `Bearer realm="http://${host}/token",service="shipgate-test"${scope ? `,scope="${scope}"` : ''}`,
          })
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        req.resume();
        return;
      }
    }
    const counting = url.pathname.includes('/blobs/uploads/');
    const headers = { ...req.headers };
    delete headers.authorization;
    const forward = httpRequest({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      if (counting) bytes += chunk.length;
    });
    req.pipe(forward);
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  const stop = () => new Promise<void>((done) => server.close(() => done()).closeAllConnections());
  stoppers.add(stop);
  return {
    host,
    uploadedBytes: () => bytes,
    requests: () => seen,
    reset: () => {
      bytes = 0;
      seen = [];
    },
    failNext: (status, count) => {
      failures = { status, count };
    },
    stop,
  };
}

const SKOPEO_FLAGS = ['--tls-verify=false'];

function credsFlag(creds?: string): string[] {
  return creds ? ['--creds', creds] : [];
}

/** `skopeo inspect` of a reference on a test registry (the manifest-level view: digest, labels, env…). */
export function skopeoInspect(
  reference: string,
  creds?: string,
): { Digest: string; Labels: Record<string, string>; Env: string[]; Architecture: string; Layers: string[] } {
  return JSON.parse(execFileSync('skopeo', ['inspect', ...SKOPEO_FLAGS, ...credsFlag(creds), `docker://${reference}`]).toString());
}

/** The image config as skopeo reads it. */
export function skopeoConfig(
  reference: string,
  creds?: string,
): { config: Record<string, unknown>; rootfs: { diff_ids: string[] }; created: string; architecture: string } {
  return JSON.parse(
    execFileSync('skopeo', ['inspect', '--config', ...SKOPEO_FLAGS, ...credsFlag(creds), `docker://${reference}`]).toString(),
  );
}

/** Tags of a repository, or undefined when the registry has no such repository. */
export function skopeoTags(repository: string, creds?: string): string[] | undefined {
  try {
    return (
      JSON.parse(
        execFileSync('skopeo', ['list-tags', ...SKOPEO_FLAGS, ...credsFlag(creds), `docker://${repository}`], {
          stdio: ['ignore', 'pipe', 'ignore'],
        }).toString(),
      ) as { Tags: string[] }
    ).Tags;
  } catch {
    return undefined;
  }
}

/** Copies an image with skopeo into a dir: layout and lists its last layer's entries as `tar -tvzf` does. */
export async function skopeoLayerListing(reference: string, creds?: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-skopeo-'));
  execFileSync(
    'skopeo',
    ['copy', '--src-tls-verify=false', ...(creds ? ['--src-creds', creds] : []), `docker://${reference}`, `dir:${dir}`],
    { stdio: 'ignore' },
  );
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { layers: Array<{ digest: string }> };
  const layer = manifest.layers.at(-1)!.digest.replace('sha256:', '');
  return execFileSync('tar', ['--numeric-owner', '-tvzf', join(dir, layer)])
    .toString()
    .trim()
    .split('\n');
}

/** Extracts one file of the last layer via skopeo's copy. */
export async function skopeoLayerFile(reference: string, path: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-skopeo-'));
  execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${reference}`, `dir:${dir}`], { stdio: 'ignore' });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { layers: Array<{ digest: string }> };
  const layer = manifest.layers.at(-1)!.digest.replace('sha256:', '');
  return execFileSync('tar', ['-xzOf', join(dir, layer), path]).toString();
}
