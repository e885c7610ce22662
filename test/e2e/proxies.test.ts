import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../support/canary-lab.ts';
import { GitHubDouble } from '../support/github-double.ts';
import {
  acceptUploads,
  answer,
  nonLoopbackAddress,
  redirectingRegistry,
  selfSigned,
  startHostile,
  stopHostile,
} from '../support/hostile.ts';
import { type Squid, startSquid } from '../support/proxy.ts';
import { skopeoInspect, startRegistry, stopRegistries } from '../support/registry.ts';
import { runStep } from '../support/runner.ts';
import { startApp, stopAll } from '../support/services.ts';

/**
 * Issue 12 §5: networks users really have. Every client (registry, GitHub, Prometheus, health and
 * smoke) goes through HTTP_PROXY / HTTPS_PROXY and around it for NO_PROXY. The proxy is a real
 * squid whose own hosts file resolves `*.shipgate.test` names that the step's process cannot: a
 * request to them succeeds only through the proxy, and squid's access log lists each one.
 */
const NAMES = [
  'registry.shipgate.test',
  'uploads.shipgate.test',
  'secure.shipgate.test',
  'prometheus.shipgate.test',
  'github.shipgate.test',
  'app.shipgate.test',
];
const USER = 'shipgate';
const PASSWORD = 'correct horse battery staple';

let squid: Squid;
let context: string;
beforeAll(async () => {
  squid = await startSquid(Object.fromEntries(NAMES.map((n) => [n, '127.0.0.1'])));
  context = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
  await writeFile(join(context, 'index.html'), '<h1>through the proxy</h1>\n');
});
afterEach(async () => {
  await stopHostile();
  await stopAll();
});
afterAll(async () => {
  await stopRegistries();
  await squid.stop();
});

/** The proxy's log lines since `before` lines, as `METHOD URL STATUS`. */
const logSince = async (before: number) => (await squid.log()).slice(before);
/** Every variable the runner may set, so a test says exactly which proxies apply. */
const proxyEnv = (env: Record<string, string>) => ({
  http_proxy: '',
  https_proxy: '',
  no_proxy: '',
  HTTP_PROXY: '',
  HTTPS_PROXY: '',
  NO_PROXY: '',
  ...env,
});

describe('build-push', () => {
  it('pushes to a registry it can reach only through HTTP_PROXY', async () => {
    const registry = await startRegistry();
    const port = registry.host.split(':')[1];
    const image = `registry.shipgate.test:${port}/app`;
    const inputs = { image, builder: 'oci', context, tags: 'v1', insecure: 'true' };

    const direct = await runStep('build-push', 'main', { inputs, env: proxyEnv({}) });
    expect(direct.code).not.toBe(0);
    expect(direct.errors[0]).toMatch(/could not reach http:\/\/registry\.shipgate\.test:\d+ while signing in \(ENOTFOUND\)/);

    const before = (await squid.log()).length;
    const step = await runStep('build-push', 'main', { inputs, env: proxyEnv({ HTTP_PROXY: squid.url }) });
    expect(step.errors).toEqual([]);
    expect(skopeoInspect(`${registry.host}/app:v1`).Digest).toBe(step.outputs.digest);
    const log = await logSince(before);
    expect(log).toContain(`GET http://${image.split('/')[0]}/v2/ 200`);
    expect(log.some((l) => /^PATCH http:\/\/registry\.shipgate\.test:\d+\/v2\/app\/blobs\/uploads\/\S+ 202$/.test(l))).toBe(true);
    expect(log).toContain(`PUT http://${image.split('/')[0]}/v2/app/manifests/v1 201`);
  });

  it('through the proxy, sends credentials only to the registry that challenged, not to its upload host', async () => {
    const uploads = await startHostile(acceptUploads, { advertise: 'uploads.shipgate.test' });
    const registry = await startHostile(
      redirectingRegistry({ username: USER, password: PASSWORD }, () => uploads.url),
      { advertise: 'registry.shipgate.test' },
    );
    const before = (await squid.log()).length;
    const step = await runStep('build-push', 'main', {
      inputs: { image: `${registry.host}/app`, builder: 'oci', context, tags: 'v1', insecure: 'true', username: USER, password: PASSWORD },
      env: proxyEnv({ HTTP_PROXY: squid.url }),
    });
    expect(step.errors).toEqual([]);
    expect(uploads.seen.length).toBeGreaterThan(0);
    expect(uploads.seen.map((r) => r.headers.authorization).filter(Boolean)).toEqual([]);
    expect(registry.seen.some((r) => r.headers.authorization?.startsWith('Basic '))).toBe(true);
    const log = await logSince(before);
    expect(log.some((l) => l.startsWith(`PATCH ${uploads.url}/upload/`))).toBe(true);
    expect(log.some((l) => l.startsWith(`PUT ${registry.url}/v2/app/manifests/v1`))).toBe(true);
  });

  it('reaches an HTTPS registry through HTTPS_PROXY (a CONNECT tunnel), HTTP_PROXY not used for it', async () => {
    const cert = selfSigned(['secure.shipgate.test']);
    const uploads = await startHostile(acceptUploads, { advertise: 'secure.shipgate.test', tls: cert });
    const registry = await startHostile(
      redirectingRegistry({ username: USER, password: PASSWORD }, () => uploads.url),
      { advertise: 'secure.shipgate.test', tls: cert },
    );
    const inputs = { image: `${registry.host}/app`, builder: 'oci', context, tags: 'v1', username: USER, password: PASSWORD };
    const onlyHttp = await runStep('build-push', 'main', {
      inputs,
      env: { ...proxyEnv({ HTTP_PROXY: squid.url }), NODE_EXTRA_CA_CERTS: cert.file },
    });
    expect(onlyHttp.errors[0]).toMatch(/could not reach https:\/\/secure\.shipgate\.test:\d+ while signing in \(ENOTFOUND\)/);

    const before = (await squid.log()).length;
    const step = await runStep('build-push', 'main', {
      inputs,
      env: { ...proxyEnv({ HTTPS_PROXY: squid.url }), NODE_EXTRA_CA_CERTS: cert.file },
    });
    expect(step.errors).toEqual([]);
    expect(registry.seen.some((r) => r.method === 'PUT' && r.path === '/v2/app/manifests/v1')).toBe(true);
    expect(uploads.seen.map((r) => r.headers.authorization).filter(Boolean)).toEqual([]);
    const log = await logSince(before);
    expect(log).toContain(`CONNECT ${registry.host} 200`);
    expect(log).toContain(`CONNECT ${uploads.host} 200`);
  });
});

describe('canary', () => {
  it('reads a Prometheus it can reach only through the proxy, and promotes', async () => {
    const lab = await startLab({ canary: 'healthy' });
    try {
      lab.load.start();
      const port = new URL(lab.prometheus.url).port;
      const before = (await squid.log()).length;
      const step = await runStep('canary', 'main', {
        inputs: lab.inputs({
          metrics: stringify({ type: 'prometheus', address: `http://prometheus.shipgate.test:${port}`, timeout: '2s' }),
        }),
        env: proxyEnv({ HTTP_PROXY: squid.url }),
      });
      expect(step.errors).toEqual([]);
      expect(step.outputs.result).toBe('promoted');
      expect(await lab.upstreamServers()).toEqual([`${lab.canary.address} weight=100`]);
      const queries = (await logSince(before)).filter((l) => l === `POST http://prometheus.shipgate.test:${port}/api/v1/query 200`);
      expect(queries.length).toBeGreaterThan(4);
    } finally {
      await lab.load.stop();
      await lab.stop();
    }
  });
});

describe('deploy', () => {
  let github: GitHubDouble;
  beforeAll(async () => {
    github = await GitHubDouble.start();
  });
  afterAll(() => github.stop());

  it('talks to GitHub and checks the app through the proxy, and goes around it for NO_PROXY', async () => {
    const address = nonLoopbackAddress();
    if (!address)
      return console.warn('no non-loopback IPv4 address: NO_PROXY needs a host that is not loopback (loopback is never proxied)');
    const app = await startApp('v1');
    const appPort = app.address.split(':')[1];
    const githubPort = new URL(github.url).port;
    const bypassed = await startHostile(answer(200, { 'content-type': 'text/plain' }, 'v1 answered directly'), { listen: address });
    const deploy = (env: Record<string, string>) =>
      runStep('deploy', 'main', {
        inputs: {
          'github-token': 'ghs_doubletoken000000000000000000000000',
          environment: 'staging',
          artifact: 'v1',
          target: stringify({ type: 'command', run: ['true'] }),
          health: `http://app.shipgate.test:${appPort}/healthz`,
          smoke: stringify([
            { url: `http://app.shipgate.test:${appPort}/version`, 'body-contains': '{artifact}' },
            { url: `${bypassed.url}/version`, 'body-contains': '{artifact}' },
          ]),
        },
        env: { ...github.env(), GITHUB_API_URL: `http://github.shipgate.test:${githubPort}`, ...env },
      });

    let before = (await squid.log()).length;
    const step = await deploy(proxyEnv({ HTTP_PROXY: squid.url, NO_PROXY: `${address}, .example.internal` }));
    expect(step.errors).toEqual([]);
    expect(github.deploymentOf('v1', 'staging').statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    let log = await logSince(before);
    expect(log).toContain(
      `GET http://github.shipgate.test:${githubPort}/repos/shipgate-test/app/deployments?environment=staging&per_page=30&page=1 200`,
    );
    expect(log).toContain(`POST http://github.shipgate.test:${githubPort}/repos/shipgate-test/app/deployments 201`);
    expect(log).toContain(`GET http://app.shipgate.test:${appPort}/healthz 200`);
    expect(log).toContain(`GET http://app.shipgate.test:${appPort}/version 200`);
    // NO_PROXY: the request reached the app, and not through the proxy.
    expect(bypassed.seen).toHaveLength(1);
    expect(log.filter((l) => l.includes(address))).toEqual([]);

    // The same host without NO_PROXY goes through the proxy like the rest.
    before = (await squid.log()).length;
    const proxied = await deploy(proxyEnv({ http_proxy: squid.url }));
    expect(proxied.errors).toEqual([]);
    log = await logSince(before);
    expect(log).toContain(`GET ${bypassed.url}/version 200`);
  });
});
