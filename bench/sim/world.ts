import type { Clock } from '../../src/canary/ramp.ts';
import type { MetricsProvider } from '../../src/metrics/provider.ts';
import type { TrafficRouter } from '../../src/routers/router.ts';
import { Evaluator, type SeriesStore } from './promql-eval.ts';
import { Random } from './random.ts';

/**
 * A service in simulation, as Prometheus would see it: stable and canary processes behind a
 * router, Poisson traffic split by the router's weight, each request failing with its side's
 * probability and taking a log-normal time, counted in `http_requests_total{code}` and
 * `http_request_duration_seconds_bucket{le}`, scraped every `scrapeMs` at each target's own phase,
 * with process restarts (counters back to zero) and missed scrapes. Seeded: the same seed and the
 * same weights give the same series, whoever queries them and when.
 */
export interface WorldOptions {
  seed: number;
  rps: number;
  scrapeMs: number;
  stableFailureRate: number;
  canaryFailureRate: number;
  /** Log-normal latency: median seconds and sigma; the canary's median is `canaryFactor` times stable's. */
  latency: { median: number; sigma: number; canaryFactor: number };
  buckets: readonly number[];
  processesPerSide: number;
  /** A process stops at `atMs` and comes back `downMs` later with its counters at zero. */
  restarts?: ReadonlyArray<{ side: 'stable' | 'canary'; process: number; atMs: number; downMs: number }>;
  /** Probability that a scrape of a target is missed. */
  scrapeGap?: number;
}

interface Series {
  labels: Record<string, string>;
  samples: Array<[number, number]>;
}

interface Target {
  side: 'stable' | 'canary';
  process: number;
  instance: string;
  nextScrape: number;
  lastTrafficAt: number;
  requests: { ok: number; failed: number };
  buckets: number[];
  ok: Series;
  failed: Series;
  bucketSeries: Series[];
}

const KEEP_MS = 20 * 60_000;

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export class SimClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

export class World implements SeriesStore {
  readonly options: WorldOptions;
  readonly clock = new SimClock();
  readonly evaluator: Evaluator;
  private readonly random: Random;
  private readonly targets: Target[] = [];
  private readonly byMetric = new Map<string, Series[]>();
  private readonly weights: Array<[number, number]> = [[0, 0]];
  private generatedTo = 0;
  /** Probability of each bucket interval, per side: [≤ b0, (b0, b1], …, > last]. */
  private readonly bucketShare: Record<'stable' | 'canary', number[]>;
  /** What the apps served, per side, for checking what the gate counted. */
  readonly served = { stable: { requests: 0, failures: 0 }, canary: { requests: 0, failures: 0 } };

  constructor(options: WorldOptions) {
    this.options = options;
    this.random = new Random(options.seed);
    this.evaluator = new Evaluator(this);
    const share = (median: number) => {
      const cdf = options.buckets.map((b) => normalCdf(Math.log(b / median) / options.latency.sigma));
      return [...cdf.map((c, i) => c - (i ? cdf[i - 1]! : 0)), 1 - cdf.at(-1)!];
    };
    this.bucketShare = { stable: share(options.latency.median), canary: share(options.latency.median * options.latency.canaryFactor) };
    let port = 8080;
    for (const side of ['stable', 'canary'] as const) {
      for (let process = 0; process < options.processesPerSide; process++) {
        const instance = `10.0.${side === 'stable' ? 1 : 2}.${process + 1}:${port++}`;
        const series = (labels: Record<string, string>): Series => {
          const s = { labels: { job: 'app', instance, ...labels }, samples: [] };
          const list = this.byMetric.get(labels.__name__!) ?? [];
          list.push(s);
          this.byMetric.set(labels.__name__!, list);
          return s;
        };
        this.targets.push({
          side,
          process,
          instance,
          nextScrape: this.random.uniform() * options.scrapeMs,
          lastTrafficAt: 0,
          requests: { ok: 0, failed: 0 },
          buckets: options.buckets.map(() => 0).concat(0),
          ok: series({ __name__: 'http_requests_total', code: '200' }),
          failed: series({ __name__: 'http_requests_total', code: '500' }),
          bucketSeries: [...options.buckets.map(String), '+Inf'].map((le) =>
            series({ __name__: 'http_request_duration_seconds_bucket', le }),
          ),
        });
      }
    }
  }

  instances(side: 'stable' | 'canary'): string[] {
    return this.targets.filter((t) => t.side === side).map((t) => t.instance);
  }

  setWeight(weight: number): void {
    this.weights.push([this.clock.t, weight]);
  }

  seriesOf(metric: string): Series[] {
    this.advanceTo(this.clock.t);
    return this.byMetric.get(metric) ?? [];
  }

  private down(target: Target, t: number): boolean {
    return (this.options.restarts ?? []).some(
      (r) => r.side === target.side && r.process === target.process && t >= r.atMs && t < r.atMs + r.downMs,
    );
  }

  /** Requests one process received in (from, to]: its side's share of traffic, split among its side's processes that are up. */
  private expectedRequests(target: Target, from: number, to: number): number {
    let total = 0;
    for (let i = 0; i < this.weights.length; i++) {
      const [start, weight] = this.weights[i]!;
      const end = this.weights[i + 1]?.[0] ?? Infinity;
      const a = Math.max(from, start);
      const b = Math.min(to, end);
      if (b <= a) continue;
      const share = target.side === 'canary' ? weight / 100 : 1 - weight / 100;
      const mid = (a + b) / 2;
      const up = this.targets.filter((t) => t.side === target.side && !this.down(t, mid)).length;
      if (this.down(target, mid) || up === 0) continue;
      total += (this.options.rps * share * (b - a)) / 1000 / up;
    }
    return total;
  }

  private serve(target: Target, from: number, to: number): void {
    const n = this.random.poisson(this.expectedRequests(target, from, to));
    if (n === 0) return;
    const rate = target.side === 'canary' ? this.options.canaryFailureRate : this.options.stableFailureRate;
    const failed = this.random.binomial(n, rate);
    target.requests.ok += n - failed;
    target.requests.failed += failed;
    this.served[target.side].requests += n;
    this.served[target.side].failures += failed;
    let left = n;
    let mass = 1;
    const shares = this.bucketShare[target.side];
    for (let i = 0; i < shares.length && left > 0; i++) {
      const k = i === shares.length - 1 ? left : this.random.binomial(left, Math.min(1, shares[i]! / mass));
      // Bucket i counts requests at or under its bound: every interval from i on adds to it.
      for (let j = i; j < target.buckets.length; j++) target.buckets[j]! += k;
      left -= k;
      mass -= shares[i]!;
    }
  }

  /** Scrapes every target up to time t, in time order. */
  private advanceTo(t: number): void {
    if (t <= this.generatedTo) return;
    for (;;) {
      const target = this.targets.reduce((a, b) => (b.nextScrape < a.nextScrape ? b : a));
      if (target.nextScrape > t) break;
      const at = target.nextScrape;
      target.nextScrape += this.options.scrapeMs;
      const restart = (this.options.restarts ?? []).find(
        (r) =>
          r.side === target.side && r.process === target.process && target.lastTrafficAt < r.atMs + r.downMs && at >= r.atMs + r.downMs,
      );
      if (restart) {
        // The traffic it served before it stopped is lost with it; the new process starts at zero.
        this.serve(target, target.lastTrafficAt, restart.atMs);
        target.requests = { ok: 0, failed: 0 };
        target.buckets.fill(0);
        target.lastTrafficAt = restart.atMs + restart.downMs;
      }
      this.serve(target, target.lastTrafficAt, at);
      target.lastTrafficAt = at;
      if (this.down(target, at) || this.random.uniform() < (this.options.scrapeGap ?? 0)) continue;
      target.ok.samples.push([at, target.requests.ok]);
      target.failed.samples.push([at, target.requests.failed]);
      target.bucketSeries.forEach((s, i) => s.samples.push([at, target.buckets[i]!]));
    }
    this.generatedTo = t;
    if (this.targets[0]!.ok.samples.length > 200) {
      for (const list of this.byMetric.values())
        for (const s of list) while (s.samples.length && s.samples[0]![0] < t - KEEP_MS) s.samples.shift();
    }
  }

  /** Prometheus' HTTP API over this world, as the gate sees it. */
  metrics(): MetricsProvider {
    return {
      description: 'simulated Prometheus',
      vector: async (query) => ({ series: this.evaluator.query(query, this.clock.t) }),
      labelNames: async (selector) => {
        const metric = /^\{__name__="(.+)"\}$/.exec(selector)?.[1];
        const names = new Set<string>();
        for (const s of metric ? this.seriesOf(metric) : []) for (const k of Object.keys(s.labels)) names.add(k);
        return [...names];
      },
      scrapeIntervalMs: async () => this.options.scrapeMs,
    };
  }

  router(): TrafficRouter {
    let current = 0;
    return {
      description: 'simulated router',
      check: async () => {},
      setWeight: async (weight) => {
        current = weight;
        this.setWeight(weight);
      },
      currentWeight: async () => current,
    };
  }
}
