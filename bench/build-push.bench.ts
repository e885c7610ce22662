// build-push speed against real registries: a cold daemonless build+push of ~50 MB of
// incompressible files next to buildah (vfs, chroot) doing the same, an unchanged re-push from a
// fresh checkout, and copy mode (same registry: mounts; another registry: streamed).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCountingProxy, startRegistry, stopRegistries } from '../test/support/registry.ts';
import { runStep } from '../test/support/runner.ts';
import type { BenchTable } from './table.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MB = 1024 * 1024;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function makeContext(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-bench-context-'));
  await mkdir(join(dir, 'data'));
  for (let i = 0; i < 5; i++) await writeFile(join(dir, 'data', `blob-${i}.bin`), randomBytes(10 * MB));
  await writeFile(join(dir, 'server.js'), 'console.log("bench");\n');
  return dir;
}

async function freshCheckout(context: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-bench-checkout-'));
  await cp(context, dir, { recursive: true });
  const later = new Date(Date.now() + 3_600_000);
  for (const f of ['server.js', 'data', ...Array.from({ length: 5 }, (_, i) => `data/blob-${i}.bin`)])
    await utimes(join(dir, f), later, later);
  return dir;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

/** `buildah bud` + `buildah push` of the same files, in its own storage, to a fresh registry. */
async function buildah(context: string, registryHost: string): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'shipgate-bench-buildah-'));
  const containerfile = join(root, 'Containerfile');
  await writeFile(containerfile, 'FROM scratch\nCOPY . /app/\nENTRYPOINT ["node", "server.js"]\n');
  const storage = ['--storage-driver', 'vfs', '--root', join(root, 'root'), '--runroot', join(root, 'runroot')];
  try {
    const [, ms] = await timed(() => {
      execFileSync(
        'buildah',
        [...storage, 'bud', '--isolation', 'chroot', '--quiet', '-f', containerfile, '-t', 'localhost/bench:1', context],
        { stdio: 'ignore' },
      );
      execFileSync(
        'buildah',
        [...storage, 'push', '--quiet', '--tls-verify=false', 'localhost/bench:1', `docker://${registryHost}/app:1`],
        { stdio: 'ignore' },
      );
    });
    return ms;
  } finally {
    execFileSync('buildah', [...storage, 'rm', '--all'], { stdio: 'ignore' });
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}

export async function run(): Promise<BenchTable[]> {
  const context = await makeContext();
  const rows = {
    cold: [] as number[],
    coldBytes: [] as number[],
    buildah: [] as number[],
    repush: [] as number[],
    repushBytes: [] as number[],
    copy: [] as number[],
    copyBytes: [] as number[],
    crossCopy: [] as number[],
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      const ours = await startRegistry();
      const proxy = await startCountingProxy(ours.host);
      const theirs = await startRegistry();
      // The cold push goes straight to the registry, as buildah's does; the proxy (which counts
      // bytes at the registry's side) fronts the same registry for the re-push and the copy.
      const inputs = { image: `${ours.host}/app`, builder: 'oci', context, entrypoint: '["node", "server.js"]', tags: 'v1' };

      const oursCold = async () => {
        const step = await runStep('build-push', 'main', { inputs });
        if (step.code !== 0) throw new Error(`cold push failed: ${step.errors.join(' ')}`);
        rows.cold.push(step.durationMs);
        rows.coldBytes.push(JSON.parse(step.outputs.metadata!).blobs.uploadedBytes);
        return step;
      };
      // Turn about, so neither side always runs first (on a warmer page cache or a quieter machine).
      let cold: Awaited<ReturnType<typeof oursCold>>;
      if (i % 2 === 0) {
        cold = await oursCold();
        rows.buildah.push(await buildah(context, theirs.host));
      } else {
        rows.buildah.push(await buildah(context, theirs.host));
        cold = await oursCold();
      }

      proxy.reset();
      const again = await runStep('build-push', 'main', {
        inputs: { ...inputs, image: `${proxy.host}/app`, context: await freshCheckout(context) },
      });
      if (again.outputs.digest !== cold.outputs.digest) throw new Error('the re-push gave another digest');
      rows.repush.push(again.durationMs);
      rows.repushBytes.push(proxy.uploadedBytes());

      proxy.reset();
      const copy = await runStep('build-push', 'main', {
        inputs: { image: `${proxy.host}/promoted`, source: `${proxy.host}/app@${cold.outputs.digest}`, tags: 'production' },
      });
      if (copy.code !== 0) throw new Error(`copy failed: ${copy.errors.join(' ')}`);
      rows.copy.push(copy.durationMs);
      rows.copyBytes.push(proxy.uploadedBytes());

      const cross = await runStep('build-push', 'main', {
        inputs: { image: `${theirs.host}/promoted`, source: `${ours.host}/app@${cold.outputs.digest}`, tags: 'production' },
      });
      if (cross.code !== 0) throw new Error(`cross-registry copy failed: ${cross.errors.join(' ')}`);
      rows.crossCopy.push(cross.durationMs);
      await stopRegistries();
    }
  } finally {
    await stopRegistries();
    await rm(context, { recursive: true, force: true });
  }
  const ratio = median(rows.cold) / median(rows.buildah);
  return [
    {
      title: `build-push: ~50 MB of incompressible files, median of ${RUNS} runs (each step is a whole action process on Node 24)`,
      columns: ['measurement', 'time', 'blob bytes uploaded', 'target'],
      rows: [
        ['cold build+push, oci builder, fresh registry', seconds(median(rows.cold)), `${(median(rows.coldBytes) / MB).toFixed(1)} MB`, ''],
        ['buildah bud + push (vfs, chroot), fresh registry', seconds(median(rows.buildah)), '', ''],
        ['ours ÷ buildah (median ÷ median)', `${ratio.toFixed(2)}×`, '', '≤ 1.0×'],
        [
          'unchanged re-push (fresh checkout: new file times)',
          seconds(median(rows.repush)),
          String(Math.max(...rows.repushBytes)),
          '≤ 1 s, 0 bytes',
        ],
        ['copy mode, same registry (mounted)', seconds(median(rows.copy)), String(Math.max(...rows.copyBytes)), ''],
        ['copy mode, to another registry (streamed)', seconds(median(rows.crossCopy)), '~50 MB', ''],
      ],
      notes: [
        `Cold push against buildah, run by run (turn about: even runs ours first, odd runs buildah first): ${rows.cold.map((ms, i) => `${seconds(ms)} vs ${seconds(rows.buildah[i]!)} (${(ms / rows.buildah[i]!).toFixed(2)}×)`).join('; ')}.`,
        `Median of the run-by-run ratios: ${median(rows.cold.map((ms, i) => ms / rows.buildah[i]!)).toFixed(2)}× (target ≤ 1.0×). Re-push: ${rows.repush.map(seconds).join(', ')}.`,
      ],
    },
  ];
}
