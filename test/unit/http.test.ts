import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLargeError, DeadlineError, parseJson, proxyFor, proxySettings, readBounded, send } from '../../src/core/http.ts';

describe('proxySettings and proxyFor, as the runner and @actions/http-client read them', () => {
  const settings = proxySettings({
    https_proxy: 'http://lower:3128',
    HTTPS_PROXY: 'http://upper:3128',
    HTTP_PROXY: 'plain:8080',
    no_proxy: ' internal.example, .corp.example ,*.svc.test, registry.example:5000, ',
  });

  it('prefers lower case, reads a bare host:port as http://, and keeps NO_PROXY entries', () => {
    expect(settings).toEqual({
      https: 'http://lower:3128',
      http: 'http://plain:8080',
      noProxy: ['internal.example', '.corp.example', '*.svc.test', 'registry.example:5000'],
    });
  });

  it.each([
    ['https://api.github.com/repos', 'http://lower:3128'],
    ['http://prometheus.example:9090/api', 'http://plain:8080'],
    // Loopback is this machine: never proxied, whatever NO_PROXY says.
    ['http://127.0.0.1:5000/v2/', undefined],
    ['http://127.8.9.10/', undefined],
    ['http://localhost:9090/', undefined],
    ['http://[::1]:8080/', undefined],
    // `internal.example` covers itself and its subdomains; `.corp.example` and `*.svc.test` only subdomains.
    ['https://internal.example/', undefined],
    ['https://a.internal.example/', undefined],
    ['https://notinternal.example/', 'http://lower:3128'],
    ['https://corp.example/', 'http://lower:3128'],
    ['https://git.corp.example/', undefined],
    ['http://svc.test/', 'http://plain:8080'],
    ['http://prom.svc.test/', undefined],
    // host:port entries bypass that port only.
    ['https://registry.example:5000/v2/', undefined],
    ['https://registry.example/v2/', 'http://lower:3128'],
  ])('%s goes through %s', (url, proxy) => {
    expect(proxyFor(new URL(url), settings)).toBe(proxy);
  });

  it('sends https straight when only HTTP_PROXY is set, and everything straight with NO_PROXY=*', () => {
    expect(proxyFor(new URL('https://ghcr.io/v2/'), proxySettings({ HTTP_PROXY: 'http://p:1' }))).toBeUndefined();
    expect(proxyFor(new URL('http://x.example/'), proxySettings({ HTTP_PROXY: 'http://p:1', NO_PROXY: '*' }))).toBeUndefined();
    // An empty lower-case variable does not hide the upper-case one (http-client reads them with ||).
    expect(proxyFor(new URL('http://x.example/'), proxySettings({ http_proxy: '', HTTP_PROXY: 'http://p:1' }))).toBe('http://p:1');
  });
});

describe('send', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/silent')) return; // accepts, reads, never answers
      if (req.url === '/trickle') {
        res.writeHead(200);
        const timer = setInterval(() => res.write('x'), 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('answers within the deadline', async () => {
    const response = await send(`${base}/ok`, { timeoutMs: 2000 });
    expect(parseJson((await readBounded(response.body, 100, 'ok')).toString(), 'test', 'JSON')).toEqual({ ok: true });
  });

  it('ends a call that gets no answer at its deadline, naming it', async () => {
    const started = performance.now();
    const call = send(`${base}/silent?token=secret`, { timeoutMs: 300 });
    await expect(call).rejects.toThrow(DeadlineError);
    await expect(call).rejects.toThrow(`GET ${base}/silent gave no answer within 300ms`);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('ends a body that is still coming at the deadline', async () => {
    const response = await send(`${base}/trickle`, { timeoutMs: 400 });
    await expect(readBounded(response.body, 1e6, 'trickle')).rejects.toThrow(`GET ${base}/trickle did not finish within 400ms`);
  });

  it('lets a bulk transfer run past timeoutMs while bytes move, and stops one that stalls', async () => {
    const moving = await send(`${base}/trickle`, { timeoutMs: 200, stallMs: 1000 });
    const chunks: Buffer[] = [];
    for await (const chunk of moving.body) {
      chunks.push(chunk as Buffer);
      if (chunks.length === 6) break;
    }
    expect(chunks.length).toBe(6); // 600 ms of trickle, three times timeoutMs
    await expect(send(`${base}/silent`, { timeoutMs: 10_000, stallMs: 300 })).rejects.toThrow(
      `GET ${base}/silent made no progress for 300ms`,
    );
  });

  it('stops at once when the caller aborts', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('stopped by the test')), 100);
    await expect(send(`${base}/silent`, { timeoutMs: 10_000, signal: stop.signal })).rejects.toThrow('stopped by the test');
  });
});

describe('readBounded and parseJson', () => {
  it('refuses a body past its bound and closes the stream', async () => {
    let pulled = 0;
    const body = Readable.from(
      (function* () {
        for (;;) {
          pulled += 1;
          yield Buffer.alloc(1024);
        }
      })(),
    );
    await expect(readBounded(body, 4096, 'The answer of X')).rejects.toThrow(BodyTooLargeError);
    expect(body.destroyed).toBe(true);
    expect(pulled).toBeLessThan(10);
  });

  it('names where a non-JSON answer came from and what was expected', () => {
    expect(() => parseJson('<html>\n<title>Proxy error</title>', 'registry.example/app: the manifest for v1', 'an image manifest')).toThrow(
      'registry.example/app: the manifest for v1 did not answer JSON (an image manifest expected; it began "<html>\\n<title>Proxy error</title>")',
    );
    expect(() => parseJson('', 'X', 'a token')).toThrow('X did not answer JSON (a token expected; it was empty)');
  });
});
