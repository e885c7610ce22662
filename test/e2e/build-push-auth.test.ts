import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  type Registry,
  skopeoInspect,
  skopeoTags,
  startCountingProxy,
  startRegistry,
  stopRegistries,
} from '../support/registry.ts';
import { runStep } from '../support/runner.ts';

const CREDS = `${REGISTRY_USER}:${REGISTRY_PASSWORD}`;
let context: string;

beforeAll(async () => {
  context = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
  await writeFile(join(context, 'index.html'), '<h1>hi</h1>\n');
});
afterAll(stopRegistries);

const inputs = (image: string, extra: Record<string, string> = {}) => ({ image, builder: 'oci', context, tags: 'v1', ...extra });

describe('build-push behind htpasswd basic auth', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: true });
  });

  it('pushes with username and password, and never prints the password or its Basic form', async () => {
    const step = await runStep('build-push', 'main', {
      inputs: inputs(`${registry.host}/site`, { username: REGISTRY_USER, password: REGISTRY_PASSWORD }),
    });
    expect(step.errors).toEqual([]);
    expect(step.code).toBe(0);
    const basic = Buffer.from(CREDS).toString('base64');
    expect(step.stdout).toContain(`::add-mask::${REGISTRY_PASSWORD}`);
    expect(step.stdout).toContain(`::add-mask::${basic}`);
    const unmasked = step.stdout.replaceAll(`::add-mask::${REGISTRY_PASSWORD}`, '').replaceAll(`::add-mask::${basic}`, '');
    expect(unmasked).not.toContain(REGISTRY_PASSWORD);
    expect(unmasked).not.toContain(basic);
    expect(skopeoInspect(`${registry.host}/site:v1`, CREDS).Digest).toBe(step.outputs.digest);
  });

  it('fails with one clear error on a wrong password, and creates no tag', async () => {
    const step = await runStep('build-push', 'main', {
      inputs: inputs(`${registry.host}/wrong`, { username: REGISTRY_USER, password: 'not it' }),
    });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toContain(`${registry.host}/wrong`);
    expect(step.errors[0]).toMatch(/401.*Check username and password/);
    expect(skopeoTags(`${registry.host}/wrong`, CREDS)).toBeUndefined();
  });

  it('fails clearly without credentials', async () => {
    const step = await runStep('build-push', 'main', { inputs: inputs(`${registry.host}/anonymous`) });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(/401/);
  });
});

describe('build-push against a Bearer-token registry', () => {
  it('follows the WWW-Authenticate challenge to the token realm, incl. a cross-repository mount', async () => {
    const registry = await startRegistry();
    const proxy = await startCountingProxy(registry.host, { bearer: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } });
    const creds = { username: REGISTRY_USER, password: REGISTRY_PASSWORD };
    const step = await runStep('build-push', 'main', { inputs: inputs(`${proxy.host}/token/app`, creds) });
    expect(step.errors).toEqual([]);
    expect(skopeoInspect(`${registry.host}/token/app:v1`).Digest).toBe(step.outputs.digest);
    expect(proxy.requests()).toContain('GET /token');
    // Every token the realm handed out is masked before it is ever sent.
    expect(step.stdout).toMatch(/^::add-mask::[0-9a-f]{32}$/m);

    proxy.reset();
    const copy = await runStep('build-push', 'main', {
      inputs: { image: `${proxy.host}/token/prod`, source: step.outputs.image!, tags: 'live', ...creds },
    });
    expect(copy.errors).toEqual([]);
    expect(JSON.parse(copy.outputs.metadata!).blobs).toMatchObject({ mounted: 2, uploaded: 0 });
    expect(proxy.uploadedBytes()).toBe(0);
    expect(skopeoInspect(`${registry.host}/token/prod:live`).Digest).toBe(step.outputs.digest);

    const wrong = await runStep('build-push', 'main', { inputs: inputs(`${proxy.host}/token/other`, { ...creds, password: 'nope' }) });
    expect(wrong.code).not.toBe(0);
    expect(wrong.errors).toHaveLength(1);
    expect(wrong.errors[0]).toMatch(/getting a token \(401/);
    expect(skopeoTags(`${registry.host}/token/other`)).toBeUndefined();
  });
});
