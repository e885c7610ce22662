// `npm run bench -- bundles`: each bundle's size and cold start on Node 24 (process start to its
// first log line, run as a runner runs it but with no inputs), next to actions/checkout's
// dist/index.js, a well-known action's bundle. Runs interleave, so machine noise hits every row alike.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { node24, repoRoot } from '../test/support/runner.ts';
import type { BenchTable } from './table.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
/** A snapshot of actions/checkout (a git directory), e.g. from the search tool's fetch. */
const CHECKOUT_GIT = process.env.CHECKOUT_GIT ?? '/work/.mirror/actions+checkout/repo';

interface Entry {
  name: string;
  file: string;
}

/** Time from spawn to the first byte on stdout or stderr, and to exit. */
async function coldStart(file: string, dir: string): Promise<{ firstLineMs: number; exitMs: number }> {
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STATE: join(dir, 'state'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
  const env = { PATH: process.env.PATH ?? '', HOME: dir, RUNNER_TEMP: dir, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir, ...files };
  const started = performance.now();
  const child = spawn(node24, [file], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let firstLineMs = NaN;
  const first = () => {
    if (Number.isNaN(firstLineMs)) firstLineMs = performance.now() - started;
  };
  child.stdout.once('data', first);
  child.stderr.once('data', first);
  child.stdout.resume();
  child.stderr.resume();
  await new Promise((done) => child.on('close', done));
  return { firstLineMs, exitMs: performance.now() - started };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

/** The chunks ncc split off beside a bundle (undici, Octokit, the lock, the atomic writer), loaded when first used. */
async function laterChunks(file: string): Promise<string> {
  const dir = dirname(file);
  const chunks = (await readdir(dir)).filter((f) => /^\d+\.index\.js$/.test(f));
  if (chunks.length === 0) return '';
  const sizes = await Promise.all(chunks.map(async (f) => (await stat(join(dir, f))).size));
  return mb(sizes.reduce((a, b) => a + b, 0));
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function ourEntries(): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const action of (await readdir(join(repoRoot, 'dist'))).sort()) {
    for (const entry of ['main', 'post']) {
      const file = join(repoRoot, 'dist', action, entry, 'index.js');
      if (existsSync(file)) entries.push({ name: `${action}/${entry}`, file });
    }
  }
  return entries;
}

/** actions/checkout's bundle written out of the snapshot's object store, or undefined without one. */
async function checkoutEntry(dir: string): Promise<Entry | undefined> {
  if (!existsSync(CHECKOUT_GIT)) return undefined;
  const out = join(dir, 'checkout-dist');
  await rm(out, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', out]);
  for (const name of ['index.js', 'package.json']) {
    const bytes = execFileSync('git', ['--git-dir', CHECKOUT_GIT, 'show', `HEAD:dist/${name}`], { maxBuffer: 64 * 1024 * 1024 });
    await writeFile(join(out, name), bytes);
  }
  const commit = execFileSync('git', ['--git-dir', CHECKOUT_GIT, 'rev-parse', '--short', 'HEAD']).toString().trim();
  return { name: `actions/checkout@${commit} (reference)`, file: join(out, 'index.js') };
}

export async function run(): Promise<BenchTable[]> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-bench-bundles-'));
  try {
    const reference = await checkoutEntry(dir);
    const entries = [...(reference ? [reference] : []), ...(await ourEntries())];
    const samples = new Map(entries.map((e) => [e.name, { first: [] as number[], exit: [] as number[] }]));
    for (const entry of entries) await coldStart(entry.file, dir); // warm the file cache once
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...entries].reverse() : entries;
      for (const entry of order) {
        const { firstLineMs, exitMs } = await coldStart(entry.file, dir);
        samples.get(entry.name)!.first.push(firstLineMs);
        samples.get(entry.name)!.exit.push(exitMs);
      }
    }
    const base = reference ? median(samples.get(reference.name)!.first) : undefined;
    const rows: string[][] = [];
    if (!reference)
      rows.push(['actions/checkout (reference)', 'not available', '', '', `no snapshot at ${CHECKOUT_GIT} (set CHECKOUT_GIT)`]);
    for (const entry of entries) {
      const s = samples.get(entry.name)!;
      const first = median(s.first);
      rows.push([
        entry.name,
        `${mb((await stat(entry.file)).size)}`,
        await laterChunks(entry.file),
        `${first.toFixed(0)} ms`,
        `${median(s.exit).toFixed(0)} ms`,
        base ? `${(first / base).toFixed(2)}×` : '',
      ]);
    }
    return [
      {
        title: `Bundles: size and cold start on Node 24 (median of ${ROUNDS} runs, no inputs)`,
        columns: ['bundle', 'parsed at start', 'loaded when used', 'first log line', 'exit', 'vs checkout'],
        rows,
        notes: [
          'First log line: from spawn to the first byte the process writes; a main with no inputs writes its one ::error:: line, a post its "nothing to undo".',
        ],
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
