import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { GitHubDouble } from './github-double.ts';
import { startHaproxySlots, type HaproxySlots } from './haproxy.ts';
import { LoadGenerator, type Sample } from './load.ts';
import { repoRoot, runStep, type StepOptions, type StepResult } from './runner.ts';
import { freePort, startNginx, startPrometheus, type Nginx, type Prometheus } from './services.ts';
import { labPerTest, slotCommand } from './deploy-lab.ts';

/**
 * Production in miniature for the slot model: two slots of two app servers each (blue live with
 * `initial`, green empty) behind real nginx or HAProxy, every server scraped by real Prometheus
 * under its own `instance`, steady HTTP load, and the OpenAPI-checked GitHub double. Apps are put
 * on servers by test/fixtures/slot.mjs (the `run` command), which logs every start and stop.
 */
export interface ReleaseLab {
  kind: 'nginx' | 'haproxy';
  dir: string;
  pools: { blue: string[]; green: string[] };
  nginx?: Nginx;
  haproxy?: HaproxySlots;
  prometheus: Prometheus;
  github: GitHubDouble;
  load: LoadGenerator;
  /** Artifact → app mode for slot.mjs, e.g. { v4: 'errors:0.06' }. */
  modes: Record<string, string>;
  /** The one routing mapping deploy's target, canary's router and revert's target take here. */
  routing(overrides?: Record<string, unknown>): string;
  run(
    action: 'deploy' | 'canary' | 'revert',
    entry: 'main' | 'post',
    inputs: Record<string, string>,
    options?: StepOptions & { runId?: string },
  ): Promise<StepResult>;
  events(): Promise<SlotEvent[]>;
  stop(): Promise<void>;
}

export interface SlotEvent {
  event: 'start' | 'stop' | 'stopped';
  address: string;
  pid: number;
  version: string;
  at: number;
}

export const TOKEN = 'ghs_doubletoken000000000000000000000000';

export const releaseLabPerTest = () => labPerTest(startReleaseLab);

export async function startReleaseLab(kind: 'nginx' | 'haproxy', initial: string): Promise<ReleaseLab> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-release-'));
  const address = async () => `127.0.0.1:${await freePort()}`;
  const pools = { blue: [await address(), await address()], green: [await address(), await address()] };
  for (const server of pools.blue) {
    const [command, ...args] = slotCommand(dir, {}, server).map((a) => a.replace('{artifact}', initial));
    await promisify(execFile)(command!, args);
  }
  const github = await GitHubDouble.start();
  const prometheus = await startPrometheus(
    [...pools.blue, ...pools.green].map((a) => ({ address: a, labels: {} })),
    '1s',
  );
  const modes: Record<string, string> = {};
  let nginx: Nginx | undefined;
  let haproxy: HaproxySlots | undefined;
  let entry: string;
  if (kind === 'nginx') {
    nginx = await startNginx(pools.blue);
    entry = nginx.url;
  } else {
    haproxy = await startHaproxySlots(pools);
    entry = haproxy.url;
  }
  const load = new LoadGenerator(`${entry}/`, 100);
  const lab: ReleaseLab = {
    kind,
    dir,
    pools,
    ...(nginx ? { nginx } : {}),
    ...(haproxy ? { haproxy } : {}),
    prometheus,
    github,
    load,
    modes,
    routing: (overrides = {}) =>
      stringify({
        ...(nginx
          ? {
              type: 'nginx',
              'config-file': nginx.upstreamFile,
              upstream: 'app',
              blue: pools.blue,
              green: pools.green,
              'test-command': nginx.testCommand,
              'reload-command': nginx.reloadCommand,
            }
          : { type: 'haproxy', socket: haproxy!.socket, backend: 'app', blue: haproxy!.names.blue, green: haproxy!.names.green }),
        run: slotCommand(dir, modes),
        env: [],
        ...overrides,
      }),
    run: (action, entryPoint, inputs, options = {}) =>
      runStep(action, entryPoint, {
        timeoutMs: 120_000,
        ...options,
        inputs: { 'github-token': TOKEN, ...inputs },
        env: { ...github.env(), ...(options.runId ? { GITHUB_RUN_ID: options.runId } : {}), ...options.env },
      }),
    async events() {
      const text = await readFile(join(dir, 'events.jsonl'), 'utf8').catch(() => '');
      return text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as SlotEvent);
    },
    async stop() {
      await load.stop();
      for (const file of (await readdir(dir)).filter((f) => f.endsWith('.pid'))) {
        try {
          process.kill(Number(await readFile(join(dir, file), 'utf8')), 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await Promise.all([nginx?.stop(), haproxy?.stop(), prometheus.stop(), github.stop()]);
    },
  };
  return lab;
}

/**
 * Stops of a process that was serving: a process stopped while it still answered requests, or
 * within `quietMs` of its last answer. Each stop is matched with the samples answered at its
 * address by the version it stopped.
 */
export function stopsWhileServing(events: readonly SlotEvent[], samples: readonly Sample[], quietMs = 1000): string[] {
  const problems: string[] = [];
  for (const stop of events.filter((e) => e.event === 'stop')) {
    const served = samples.filter((s) => s.instance === stop.address && s.version === stop.version && s.doneAt <= stop.at + 5000);
    const last = Math.max(...served.map((s) => s.doneAt), -Infinity);
    if (last > stop.at - quietMs) {
      problems.push(`${stop.version} on ${stop.address} was stopped ${Math.round(stop.at - last)} ms after its last answer`);
    }
  }
  return problems;
}

/** The inputs a job of workflows-examples/pipeline.yml gives each Shipgate step, by action name. */
export async function pipelineSteps(): Promise<Record<'deploy' | 'canary' | 'revert', Record<string, string>>> {
  const workflow = parse(await readFile(join(repoRoot, 'workflows-examples/pipeline.yml'), 'utf8')) as {
    jobs: Record<string, { steps?: Array<{ uses?: string; with?: Record<string, unknown> }> }>;
  };
  const steps = workflow.jobs.production!.steps!;
  const inputsOf = (action: string) => {
    const step = steps.find((s) => s.uses?.includes(`/actions/${action}@`));
    if (!step) throw new Error(`pipeline.yml's production job has no ${action} step`);
    return Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(v)]));
  };
  return { deploy: inputsOf('deploy'), canary: inputsOf('canary'), revert: inputsOf('revert') };
}
