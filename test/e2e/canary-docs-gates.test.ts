import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { gateSchema, type GateRule, queriesOf } from '../../src/gates/rules.ts';
import { type Lab, type LabOptions, startLab } from '../support/canary-lab.ts';
import { trafficStats } from '../support/load.ts';
import { repoRoot, runStep } from '../support/runner.ts';
import { stopAll } from '../support/services.ts';

/**
 * Every gate the README and workflows-examples/ show, run verbatim against apps labelled as the
 * README says (Prometheus' own `instance` label, no `version`): each promotes a healthy canary
 * and reverts a failing one.
 */
interface DocGate {
  where: string;
  rules: unknown[];
}

/** Every `gate:` value in a YAML document, wherever it sits. */
function gatesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) gatesIn(v, found);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'gate' && typeof v === 'string') found.push(v);
      else gatesIn(v, found);
    }
  }
  return found;
}

async function documentedGates(): Promise<DocGate[]> {
  const gates: DocGate[] = [];
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  for (const [i, [, block]] of [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].entries()) {
    if (!block!.includes('query:')) continue;
    const where = `README.md yaml block ${i + 1}`;
    // A `gate: |` literal inside a workflow: the lines indented deeper than the key.
    for (const match of block!.matchAll(/^( *)gate: \|\n((?:\1 +.*\n?)+)/gm)) gates.push({ where, rules: parse(match[2]!) as unknown[] });
    // A block that is itself a list of rules (the worked examples).
    if (/^- name:/.test(block!)) gates.push({ where, rules: parse(block!) as unknown[] });
  }
  const dir = join(repoRoot, 'workflows-examples');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yml'))) {
    for (const gate of gatesIn(parse(await readFile(join(dir, file), 'utf8'))))
      gates.push({ where: `workflows-examples/${file}`, rules: parse(gate) as unknown[] });
  }
  return gates;
}

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
  await stopAll();
});

describe('the gates the docs show', async () => {
  const gates = await documentedGates();
  // All of them at once: every rule of every documented gate, queries verbatim (names made unique).
  const everyRule = gates.flatMap((g, i) =>
    (g.rules as Array<Record<string, unknown>>).map((r) => ({ ...r, name: `${i + 1}-${String(r.name)}` })),
  );

  it('are found, valid as they are, and name the sides by placeholder, never by a version label', () => {
    expect(gates.map((g) => g.where)).toEqual(
      expect.arrayContaining(['workflows-examples/canary.yml', 'workflows-examples/pipeline.yml', expect.stringMatching(/^README\.md/)]),
    );
    expect(gates.filter((g) => g.where.startsWith('README')).length).toBeGreaterThanOrEqual(3);
    for (const gate of gates) {
      const rules = gateSchema.parse(gate.rules) as GateRule[];
      for (const rule of rules) {
        for (const [, query] of queriesOf(rule)) {
          expect(query, gate.where).toMatch(/\{(canary|stable)-instances\}/);
          expect(query, gate.where).not.toMatch(/version=/);
        }
      }
    }
    expect(everyRule.some((r) => 'baseline-total-query' in r)).toBe(true);
    expect(everyRule.some((r) => 'quantile' in r)).toBe(true);
  });

  async function run(options: LabOptions) {
    // Answers take about 20 ms, as a real service's do, so stable's p95 is the app's and not the machine's noise.
    lab = await startLab({ ...options, rps: 300, medianMs: 20 });
    lab.load.start();
    await new Promise((r) => setTimeout(r, 1500));
    const main = await runStep('canary', 'main', {
      inputs: lab.inputs({ steps: '10%:5s, 50%:40s, 100%', 'max-extension': '60s', gate: stringify(everyRule) }),
    });
    await new Promise((r) => setTimeout(r, 1000));
    return { main, stats: trafficStats(await lab.load.stop()), servers: await lab.upstreamServers() };
  }

  it('promote a healthy canary', async () => {
    const { main, servers, stats } = await run({ canary: 'healthy' });
    expect(main.errors, main.errors.join()).toEqual([]);
    expect(main.outputs.result, main.outputs.reason).toBe('promoted');
    expect(servers).toEqual([`${lab!.canary.address} weight=100`]);
    expect(stats.routingFailures).toBe(0);
  }, 240_000);

  it('revert a canary failing 6% of requests', async () => {
    const { main, servers } = await run({ canary: 'errors', canaryErrorRate: 0.06 });
    expect(main.outputs.result, main.outputs.reason).toBe('reverted');
    expect(servers).toEqual([`${lab!.stable.address} weight=100`]);
  }, 240_000);
});
