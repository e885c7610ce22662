import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitHubDouble } from '../support/github-double.ts';
import { answer, type Handler, huge, startHostile, stopHostile } from '../support/hostile.ts';
import { type Registry, skopeoTags, startRegistry, stopRegistries } from '../support/registry.ts';
import { runStep, type StepResult } from '../support/runner.ts';

/**
 * Issue 11 §6: inputs of every size and shape. Bodies are read with a bound or streamed (measured
 * as the step process's peak RSS), an answer that is not what was expected names who gave it and
 * what was expected, and a file name that is not UTF-8 is refused by name before anything is pushed.
 */

let dir: string;
let rssHook: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shipgate-shapes-'));
  // Loaded into the step with NODE_OPTIONS: writes the process's peak RSS (KiB) as it exits.
  rssHook = join(dir, 'rss.mjs');
  await writeFile(
    rssHook,
    "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.SHIPGATE_TEST_RSS, String(process.resourceUsage().maxRSS)));\n",
  );
});
afterEach(stopHostile);
afterAll(stopRegistries);

const MB = 1024 * 1024;

describe('a smoke check against a 600 MB body', () => {
  let github: GitHubDouble;
  beforeAll(async () => {
    github = await GitHubDouble.start();
  });
  afterAll(() => github.stop());

  /** Deploys with one smoke check and returns the step and its peak RSS in MiB. */
  async function smoke(check: Record<string, unknown>, artifact: string): Promise<[StepResult, number]> {
    const rss = join(dir, `${artifact}.rss`);
    const step = await runStep('deploy', 'main', {
      inputs: {
        'github-token': 'ghs_doubletoken000000000000000000000000',
        environment: 'staging',
        artifact,
        target: stringify({ type: 'command', run: ['true'] }),
        smoke: stringify([{ timeout: '60s', ...check }]),
        'on-failure': 'fail',
      },
      env: { ...github.env(), NODE_OPTIONS: `--import=${rssHook}`, SHIPGATE_TEST_RSS: rss },
      timeoutMs: 120_000,
    });
    return [step, Number(await readFile(rss, 'utf8')) / 1024];
  }

  // The step's own baseline is about 105 MiB; reading the whole body as text took 1.9 GB before.
  it('finds body-contains at its very end in constant memory', async () => {
    const app = await startHostile(huge(600 * MB, 'build v600'));
    const [step, rss] = await smoke({ url: `${app.url}/version`, 'body-contains': '{artifact}' }, 'v600');
    console.log(`body-contains over 600 MB: peak RSS ${Math.round(rss)} MiB, ${Math.round(step.durationMs)} ms`);
    expect(step.errors).toEqual([]);
    expect(step.stdout).toContain(`✓ ${app.url}/version: 200 in`);
    expect(rss).toBeLessThan(300);
  });

  it('fails when the body lacks it, still in constant memory', async () => {
    const app = await startHostile(huge(600 * MB, 'build v599'));
    const [step, rss] = await smoke({ url: `${app.url}/version`, 'body-contains': '{artifact}' }, 'v600');
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toContain('body does not contain "v600"');
    expect(rss).toBeLessThan(300);
  });

  it('reads at most 1 MiB for body-regex, and says so', async () => {
    const app = await startHostile(huge(600 * MB, 'build v600'));
    const [step, rss] = await smoke({ url: `${app.url}/version`, 'body-regex': 'build v\\d+$' }, 'v600');
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toContain('body does not match /build v\\d+$/ in its first 1 MiB (body-regex reads no more)');
    expect(rss).toBeLessThan(300);
    // The rest of the body was never received: the connection was closed after the first MiB or so.
    expect(step.durationMs).toBeLessThan(20_000);
  });
});

describe('answers that are not what was expected', () => {
  let registry: Registry;
  let context: string;
  beforeAll(async () => {
    registry = await startRegistry();
    context = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
    await writeFile(join(context, 'index.html'), 'hi\n');
  });

  /** A registry whose base image manifest is whatever `manifest` answers. */
  const baseRegistry = (manifest: Handler) =>
    startHostile((req, res, server) => {
      if (req.url === '/v2/') return void answer(200, { 'content-type': 'application/json' }, '{}')(req, res, server);
      return manifest(req, res, server);
    });
  const build = (base: string) =>
    runStep('build-push', 'main', { inputs: { image: `${registry.host}/app`, builder: 'oci', context, base, tags: 'v1' } });

  it('a manifest that is an HTML page names the image and what was expected', async () => {
    const base = await baseRegistry(answer(200, { 'content-type': 'text/html' }, '<html><body>Sign in to the proxy</body></html>'));
    const step = await build(`${base.host}/base:v1`);
    expect(step.errors).toEqual([
      `The base image ${base.host}/base:v1 did not answer JSON (an image manifest or index expected; it began "<html><body>Sign in to the proxy</body></html>")`,
    ]);
    expect(skopeoTags(`${registry.host}/app`)).toBeUndefined();
  });

  it('JSON of the wrong shape names the field', async () => {
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: 'nope', layers: [] };
    const base = await baseRegistry(answer(200, { 'content-type': manifest.mediaType }, JSON.stringify(manifest)));
    const step = await build(`${base.host}/base:v1`);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(new RegExp(`^The base image ${base.host}/base:v1 is not an image manifest \\(config: `));
  });

  it('a digest that is a path is refused before it reaches a URL', async () => {
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:../../../v2/other/blobs/x', size: 2 },
      layers: [],
    };
    const base = await baseRegistry(answer(200, { 'content-type': manifest.mediaType }, JSON.stringify(manifest)));
    const step = await build(`${base.host}/base:v1`);
    expect(step.errors[0]).toMatch(/is not an image manifest \(config\.digest: is not a digest\)/);
    expect(base.seen.map((r) => r.path)).not.toContain('/v2/other/blobs/x');
  });

  it('a manifest larger than 4 MiB is refused, not buffered', async () => {
    const base = await baseRegistry(huge(64 * MB));
    const step = await build(`${base.host}/base:v1`);
    expect(step.errors).toEqual([`${base.host}/base: the manifest for v1 (64 MiB) is larger than 4 MiB; Shipgate reads at most that much`]);
    expect(step.durationMs).toBeLessThan(10_000);
  });

  it('a GitHub API that answers an HTML page is named with the call', async () => {
    const github = await startHostile(
      answer(200, { 'content-type': 'text/html; charset=utf-8' }, '<!doctype html><title>Proxy login</title>'),
    );
    const step = await runStep('deploy', 'main', {
      inputs: {
        'github-token': 'ghs_doubletoken000000000000000000000000',
        environment: 'staging',
        artifact: 'v1',
        target: stringify({ type: 'command', run: ['true'] }),
      },
      env: {
        GITHUB_API_URL: github.url,
        GITHUB_REPOSITORY: 'shipgate-test/app',
        GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
        GITHUB_RUN_ID: '4242',
      },
    });
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toContain(
      `GitHub GET ${github.url}/repos/shipgate-test/app/deployments answered 200 with "text/html; charset=utf-8", not JSON (it began "<!doctype html><title>Proxy login</title>"); check GITHUB_API_URL and any proxy in between`,
    );
  });
});

describe('a build context with a file name that is not UTF-8', () => {
  it('is refused with the name, its bad bytes shown, and nothing is pushed', async () => {
    const registry = await startRegistry();
    const context = await mkdtemp(join(tmpdir(), 'shipgate-context-'));
    await mkdir(join(context, 'static'));
    await writeFile(join(context, 'static', 'ok.txt'), 'fine\n');
    // "café.txt" written by a Latin-1 tool: é is the single byte 0xe9.
    const latin1 = Buffer.concat([Buffer.from(join(context, 'static', 'caf')), Buffer.from([0xe9]), Buffer.from('.txt')]);
    await writeFile(latin1, 'bonjour\n');
    const step = await runStep('build-push', 'main', { inputs: { image: `${registry.host}/names`, builder: 'oci', context, tags: 'v1' } });
    expect(step.code).not.toBe(0);
    expect(step.errors).toEqual([
      `The build context has a file whose name is not UTF-8: static/caf\\xe9.txt (in ${context}). Image layers store names as UTF-8: rename it (e.g. with convmv) or remove it before this step`,
    ]);
    expect(skopeoTags(`${registry.host}/names`)).toBeUndefined();
  });
});
