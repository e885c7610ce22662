import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requirePrograms } from './programs.ts';

/**
 * Deliberately hostile or broken servers standing in for the other side (a registry, GitHub,
 * Prometheus, an app): they never answer, answer forever, answer garbage, rate-limit, or redirect
 * uploads elsewhere, and they record every request so a test can say what reached them.
 */
export interface Seen {
  method: string;
  /** Path and query, as requested. */
  path: string;
  headers: IncomingHttpHeaders;
}

export interface HostileServer {
  /** `http://host:port` */
  url: string;
  /** `host:port` */
  host: string;
  port: number;
  seen: Seen[];
  /** Resolves once `count` requests have arrived. */
  received(count?: number): Promise<void>;
  stop(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, server: HostileServer) => void | Promise<void>;

const servers = new Set<HostileServer>();

export async function stopHostile(): Promise<void> {
  await Promise.all([...servers].map((s) => s.stop()));
}

export interface Certificate {
  key: string;
  cert: string;
  /** The certificate as a file, for NODE_EXTRA_CA_CERTS: the step trusts it as it would a real CA. */
  file: string;
}

/** A self-signed certificate for these DNS names and IP addresses (openssl). */
export function selfSigned(names: string[]): Certificate {
  requirePrograms('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'shipgate-tls-'));
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  writeFileSync(join(dir, 'ca.pem'), cert);
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert, file: join(dir, 'ca.pem') };
}

/** This machine's first non-loopback IPv4 address: a host the proxy rules treat as remote. */
export function nonLoopbackAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

/**
 * A server on `listen` (default 127.0.0.1) whose every request goes to `handler`, after being
 * recorded; with `tls`, HTTPS. `advertise` is the host name its URL uses, when not the address.
 */
export async function startHostile(
  handler: Handler,
  options: { listen?: string; advertise?: string; tls?: Certificate } = {},
): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const server: HostileServer = {
    url: '',
    host: '',
    port: 0,
    seen: [],
    async received(count = 1) {
      while (server.seen.length < count) await sleep(20);
    },
    async stop() {
      servers.delete(server);
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => http.close(done));
    },
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    server.seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    void Promise.resolve(handler(req, res, server)).catch(() => res.destroy());
  };
  const http = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest) : createServer(onRequest);
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Idle sockets of a silent server must not be reaped by Node's own timeouts: silence is the test.
  http.requestTimeout = 0;
  http.headersTimeout = 0;
  http.keepAliveTimeout = 0;
  await new Promise<void>((done) => http.listen(0, options.listen ?? '127.0.0.1', done));
  server.port = (http.address() as AddressInfo).port;
  server.host = `${options.advertise ?? options.listen ?? '127.0.0.1'}:${server.port}`;
  server.url = `${options.tls ? 'https' : 'http'}://${server.host}`;
  servers.add(server);
  return server;
}

/** Reads the request and never answers: a server that accepted the connection and hung. */
export const silent: Handler = (req) => {
  req.resume();
};

/** 200 with `bytes` of filler, streamed as fast as the reader takes it, `tail` at the very end. */
export function huge(bytes: number, tail = ''): Handler {
  const block = Buffer.alloc(64 * 1024, 'shipgate filler ');
  return async (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(bytes + Buffer.byteLength(tail)) });
    let sent = 0;
    while (sent < bytes && !res.destroyed) {
      const chunk = block.subarray(0, Math.min(block.length, bytes - sent));
      sent += chunk.length;
      if (!res.write(chunk)) await new Promise((done) => res.once('drain', done).once('close', done));
    }
    res.end(tail);
  };
}

/** Answers every request with `status`, `headers` and `body`. */
export function answer(status: number, headers: Record<string, string>, body: string | Buffer = ''): Handler {
  return (req, res) => {
    req.resume();
    res.writeHead(status, headers).end(body);
  };
}

/** GitHub's answer when the token's primary rate limit is used up until `resetInSeconds` from now. */
export function rateLimited(resetInSeconds: number): Handler {
  return (req, res) => {
    req.resume();
    const reset = Math.floor(Date.now() / 1000) + resetInSeconds;
    res
      .writeHead(403, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-used': '5000',
        'x-ratelimit-reset': String(reset),
      })
      .end(
        JSON.stringify({
          message: 'API rate limit exceeded for installation ID 4242.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        }),
      );
  };
}

/** Forwards to `upstream` (http://host:port) after `before` had its say: returning true means it answered. */
export function front(upstream: string, before: (req: IncomingMessage, res: ServerResponse, count: number) => boolean): Handler {
  const target = new URL(upstream);
  let count = 0;
  return (req, res) => {
    count += 1;
    if (before(req, res, count)) return;
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (reply) => {
        res.writeHead(reply.statusCode!, reply.headers);
        reply.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  };
}

/**
 * A registry that does the least a push needs, behind Basic auth, and sends every upload to
 * `uploadTo` (another origin) in its Location, as a registry with separate upload hosts or a
 * malicious one would. `acceptUploads` plays the upload host: it takes PATCH and PUT like a registry.
 */
export function redirectingRegistry(credentials: { username: string; password: string }, uploadTo: () => string): Handler {
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  return (req, res) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://registry').pathname;
    if (req.headers.authorization !== expected) {
      res
        .writeHead(401, { 'www-authenticate': 'Basic realm="hostile"', 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (path === '/v2/') return void res.writeHead(200).end('{}');
    if (req.method === 'HEAD' || (req.method === 'GET' && path.includes('/manifests/'))) return void res.writeHead(404).end();
    if (req.method === 'POST' && path.endsWith('/blobs/uploads/')) {
      return void res.writeHead(202, { location: `${uploadTo()}/upload/${randomUUID()}`, 'content-length': '0' }).end();
    }
    if (req.method === 'PUT' && path.includes('/manifests/')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const digest = `sha256:${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`;
        res.writeHead(201, { 'docker-content-digest': digest }).end();
      });
      return;
    }
    res.writeHead(404).end();
  };
}

/** The other origin uploads are sent to: it takes them like a registry would, asking for no credentials. */
export const acceptUploads: Handler = (req, res, server) => {
  req.resume();
  req.on('end', () => {
    const url = new URL(req.url ?? '/', server.url);
    if (req.method === 'PATCH') return void res.writeHead(202, { location: `${server.url}${url.pathname}` }).end();
    if (req.method === 'PUT') return void res.writeHead(201, { 'docker-content-digest': url.searchParams.get('digest') ?? '' }).end();
    res.writeHead(404).end();
  });
};
