import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { LoadGenerator } from './load.ts';
import { type App, type AppMode, type AppOptions, type Nginx, type Prometheus, startApp, startNginx, startPrometheus } from './services.ts';

/**
 * A production in miniature for canary tests, the bench and the demo: stable and canary app
 * processes behind real nginx, scraped every second by real Prometheus, under steady HTTP load.
 * Prometheus labels each target as the README says it should: its own `instance` label only, no
 * `version`; the gate names the two sides with {canary-instances} and {stable-instances}.
 */
export interface LabOptions {
  canary: AppMode;
  canaryErrorRate?: number;
  canaryLatencyMs?: number;
  /** Background failure rate of both versions (the stable one too). */
  backgroundErrorRate?: number;
  rps?: number;
  /** Log-normal latency of every answer around this median (ms) on stable; the canary's is `canaryLatencyFactor` times it. */
  medianMs?: number;
  canaryLatencyFactor?: number;
  /** Counters for a status code appear only once it has been served (no failure series before the first failure). */
  lazyCounters?: boolean;
  /** App processes per version (a pool behind the router), each scraped on its own. Default 1. */
  processes?: number;
}

export interface Lab {
  /** The first process of each version (the only one unless `processes` > 1). */
  stable: App;
  canary: App;
  stableApps: App[];
  canaryApps: App[];
  nginx: Nginx;
  prometheus: Prometheus;
  load: LoadGenerator;
  /** The canary action's inputs for this lab; `overrides` replace any of them. */
  inputs(overrides?: Record<string, string>): Record<string, string>;
  /** The servers the upstream block routes to now, as nginx reads it. */
  upstreamServers(): Promise<string[]>;
  stop(): Promise<void>;
}

const on = (side: 'canary' | 'stable') => `instance=~"{${side}-instances}"`;

export const errorRatio = (side: 'canary' | 'stable', window: string) =>
  `sum(rate(http_requests_total{${on(side)},code="500"}[${window}])) / sum(rate(http_requests_total{${on(side)}}[${window}]))`;

/** The gate the lab's canaries are judged by: error ratio and p95 latency over a short window. */
export const labGate = [
  { name: 'error-rate', query: errorRatio('canary', '10s'), max: 0.02 },
  {
    name: 'p95-latency',
    query: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${on('canary')}}[10s])))`,
    max: 0.25,
  },
];

/** Canary against stable on raw counters, for the sequential test. */
export const baselineRule = {
  name: 'errors-vs-stable',
  query: `sum(http_requests_total{${on('canary')},code="500"})`,
  'total-query': `sum(http_requests_total{${on('canary')}})`,
  'baseline-query': `sum(http_requests_total{${on('stable')},code="500"})`,
  'baseline-total-query': `sum(http_requests_total{${on('stable')}})`,
};

/** Canary latency against stable's p95, from the apps' histograms. */
export const latencyRule = {
  name: 'latency-vs-stable',
  query: `sum by (le) (http_request_duration_seconds_bucket{${on('canary')}})`,
  'baseline-query': `sum by (le) (http_request_duration_seconds_bucket{${on('stable')}})`,
  quantile: 0.95,
};

async function warmUp(app: App, requests = 400, withinMs = 2000): Promise<void> {
  const agent = new Agent({ connections: 8 });
  const deadline = performance.now() + withinMs;
  try {
    for (let i = 0; i < requests && performance.now() < deadline; i += 8) {
      await Promise.all(
        Array.from({ length: 8 }, () => request(`http://${app.address}/warm-up`, { dispatcher: agent }).then((r) => r.body.dump())),
      );
    }
  } finally {
    await agent.close();
  }
}

export async function startLab(options: LabOptions): Promise<Lab> {
  const background = options.backgroundErrorRate;
  const shared: AppOptions = { medianMs: options.medianMs, lazyCounters: options.lazyCounters };
  const count = options.processes ?? 1;
  const canaryErrorRate = options.canaryErrorRate ?? background;
  const stableApps: App[] = [];
  const canaryApps: App[] = [];
  for (let i = 0; i < count; i++) {
    stableApps.push(await startApp('stable', background ? 'errors' : 'healthy', { ...shared, errorRate: background }));
    canaryApps.push(
      await startApp('canary', options.canary === 'healthy' && canaryErrorRate ? 'errors' : options.canary, {
        ...shared,
        errorRate: canaryErrorRate,
        latencyMs: options.canaryLatencyMs,
        medianMs: options.medianMs !== undefined ? options.medianMs * (options.canaryLatencyFactor ?? 1) : undefined,
      }),
    );
  }
  const [stable, canary] = [stableApps[0]!, canaryApps[0]!];
  // As deploy's smoke checks would, warm both versions up before they are judged: a process that
  // never served is slower on its first requests (code not yet optimised), which is not the release.
  await Promise.all([...stableApps, ...canaryApps].map((app) => warmUp(app)));
  const nginx = await startNginx(stableApps.map((a) => a.address));
  const prometheus = await startPrometheus([...stableApps, ...canaryApps].map((a) => ({ address: a.address, labels: {} })));
  const load = new LoadGenerator(`${nginx.url}/`, options.rps ?? 100);
  const addresses = (apps: App[]) => (apps.length === 1 ? apps[0]!.address : apps.map((a) => a.address));
  return {
    stable,
    canary,
    stableApps,
    canaryApps,
    nginx,
    prometheus,
    load,
    inputs: (overrides = {}) => ({
      steps: '10%:6s, 50%:6s, 100%',
      interval: '2s',
      router: stringify({
        type: 'nginx',
        'config-file': nginx.upstreamFile,
        upstream: 'app',
        stable: addresses(stableApps),
        canary: addresses(canaryApps),
        'reload-command': nginx.reloadCommand,
        'test-command': nginx.testCommand,
      }),
      metrics: stringify({ type: 'prometheus', address: prometheus.url, timeout: '2s' }),
      gate: stringify(labGate),
      ...overrides,
    }),
    async upstreamServers() {
      const text = await readFile(nginx.upstreamFile, 'utf8');
      return [...text.matchAll(/server\s+(\S+?)(?:\s+weight=(\d+))?;/g)].map((m) => `${m[1]}${m[2] ? ` weight=${m[2]}` : ''}`);
    },
    async stop() {
      await load.stop();
      await Promise.all([nginx.stop(), prometheus.stop(), ...[...stableApps, ...canaryApps].map((a) => a.stop())]);
    },
  };
}
