import { runRamp } from '../../src/canary/ramp.ts';
import { parseSteps, type Step } from '../../src/canary/schedule.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Gate } from '../../src/gates/gate.ts';
import { expandPlaceholders } from '../../src/gates/placeholders.ts';
import { gateSchema, type GateRule, mapQueries } from '../../src/gates/rules.ts';
import { instancesPattern } from '../../src/gates/placeholders.ts';
import { World, type WorldOptions } from './world.ts';

/** What a judge decided on one simulated ramp. */
export interface Verdict {
  result: 'promoted' | 'reverted';
  /** When the judge found the canary bad (ms since the first weight change); undefined if it never did. */
  detectedAtMs?: number;
  /** Reverted only because the evidence never sufficed (our gate's inconclusive policy). */
  undecided: boolean;
  /** For our gate: the failures and requests it weighed against what the simulated apps served. */
  weighed?: { canary: number; stable: number };
}

/** What the judges watch: the failure rate, or latency. */
export type Metric = 'errors' | 'latency';

export type Judge = (world: World, steps: readonly Step[], metric: Metric) => Promise<Verdict>;

const on = (side: 'canary' | 'stable') => `instance=~"{${side}-instances}"`;

/** Our gate, as the README's worked examples write it, with every default: failures, and latency against stable. */
export const SHIPGATE_RULES = [
  {
    name: 'errors-vs-stable',
    query: `sum(http_requests_total{${on('canary')},code="500"})`,
    'total-query': `sum(http_requests_total{${on('canary')}})`,
    'baseline-query': `sum(http_requests_total{${on('stable')},code="500"})`,
    'baseline-total-query': `sum(http_requests_total{${on('stable')}})`,
  },
  {
    name: 'latency-vs-stable',
    query: `sum by (le) (http_request_duration_seconds_bucket{${on('canary')}})`,
    'baseline-query': `sum by (le) (http_request_duration_seconds_bucket{${on('stable')}})`,
    quantile: 0.95,
  },
];

const never = new AbortController().signal;

/** The real gate and the real ramp on the world's clock. */
export const shipgate: Judge = async (world, steps, metric) => {
  const sides = {
    stable: { addresses: world.instances('stable') },
    canary: { addresses: world.instances('canary') },
  };
  const rules = (
    gateSchema.parse(SHIPGATE_RULES.filter((r) => (metric === 'errors') === (r.name === 'errors-vs-stable'))) as GateRule[]
  ).map((r) => mapQueries(r, (q) => expandPlaceholders(q, sides)));
  const gate = new Gate(rules, world.metrics(), 30_000);
  await gate.preflight();
  const report = await runRamp({
    steps,
    intervalMs: 30_000,
    router: world.router(),
    gate,
    logger: silentLogger,
    signal: never,
    clock: world.clock,
  });
  const failed = report.result === 'reverted' && report.reason.startsWith('gate failed');
  const last = report.steps.flatMap((s) => s.readings).findLast((r) => r.rule === 'errors-vs-stable' && r.comparison);
  return {
    result: report.result,
    detectedAtMs: failed ? report.durationMs : undefined,
    undecided: report.result === 'reverted' && !failed,
    weighed: last?.comparison && { canary: last.comparison.canary.requests, stable: last.comparison.stable.requests },
  };
};

/** PromQL for one side of the world, with its instances filled in. */
function sideQuery(world: World, side: 'canary' | 'stable', template: string): string {
  return template.replaceAll('{side}', `instance=~"${instancesPattern(world.instances(side))}"`);
}
const ERROR_RATIO = 'sum(rate(http_requests_total{{side},code="500"}[1m])) / sum(rate(http_requests_total{{side}}[1m]))';
const P95 = 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{side}}[1m])))';

/** One number from an instant query, or NaN. */
function value(world: World, query: string): number {
  const elements = world.evaluator.query(query, world.clock.t);
  return elements.length === 1 ? elements[0]!.value : NaN;
}

/**
 * A fixed threshold as Flagger and Argo Rollouts users write it: error ratio ≤ 1% (or p95 ≤ 150 ms)
 * over 1 m, measured every minute by a background analysis; the rollout is rolled back once
 * `failedChecks` measurements have failed (Flagger's documented example: threshold 5). A
 * measurement with no data does not count.
 */
function fixedThreshold(failedChecks: number): Judge {
  return async (world, steps, metric) => {
    const router = world.router();
    const start = world.clock.t;
    let failures = 0;
    for (const step of steps) {
      await router.setWeight(step.weight);
      if (step.holdMs === 0) return { result: 'promoted', undecided: false };
      const end = world.clock.t + step.holdMs;
      while (world.clock.t + 60_000 <= end) {
        world.clock.t += 60_000;
        const failed =
          metric === 'errors'
            ? value(world, sideQuery(world, 'canary', ERROR_RATIO)) > 0.01
            : value(world, sideQuery(world, 'canary', P95)) > 0.15;
        if (failed) failures++;
        if (failures >= failedChecks) {
          await router.setWeight(0);
          return { result: 'reverted', detectedAtMs: world.clock.t - start, undecided: false };
        }
      }
      world.clock.t = end;
    }
    return { result: 'promoted', undecided: false };
  };
}

/**
 * Mann–Whitney U as Apache Commons Math computes it for Kayenta's NetflixACAJudge: mid-ranks, the
 * normal approximation; two-sided p-value.
 */
export function mannWhitneyP(a: readonly number[], b: readonly number[]): number {
  const all = [...a.map((v) => ({ v, a: true })), ...b.map((v) => ({ v, a: false }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const rankSumA = all.reduce((s, x, i) => s + (x.a ? ranks[i]! : 0), 0);
  const n1 = a.length;
  const n2 = b.length;
  const u1 = rankSumA - (n1 * (n1 + 1)) / 2;
  const u = Math.max(u1, n1 * n2 - u1);
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  if (sd === 0) return 1;
  const z = (u - mean) / sd;
  // Two-sided: 2·(1 − Φ(|z|)).
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const tail =
    (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)) *
    t *
    (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return Math.min(1, 2 * tail);
}

/**
 * A Kayenta-style judge: every 5-minute analysis interval, each metric's per-minute values on the
 * canary and on stable (error ratio, p95) go through a Mann–Whitney U test at confidence 0.98; a
 * metric significantly higher on the canary fails the interval, and a failed interval reverts.
 */
export const kayenta: Judge = async (world, steps, metric) => {
  const router = world.router();
  const start = world.clock.t;
  const INTERVAL = 5 * 60_000;
  for (const step of steps) {
    await router.setWeight(step.weight);
    if (step.holdMs === 0) return { result: 'promoted', undecided: false };
    const end = world.clock.t + step.holdMs;
    while (world.clock.t + INTERVAL <= end + 1) {
      const perMinute = { canary: [] as number[], stable: [] as number[] };
      for (let m = 0; m < INTERVAL / 60_000; m++) {
        world.clock.t += 60_000;
        for (const side of ['canary', 'stable'] as const)
          perMinute[side].push(value(world, sideQuery(world, side, metric === 'errors' ? ERROR_RATIO : P95)));
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      const c = perMinute.canary.filter(Number.isFinite);
      const s = perMinute.stable.filter(Number.isFinite);
      const high = c.length >= 3 && s.length >= 3 && mannWhitneyP(c, s) < 0.02 && median(c) > median(s);
      if (high) {
        await router.setWeight(0);
        return { result: 'reverted', detectedAtMs: world.clock.t - start, undecided: false };
      }
    }
    world.clock.t = end;
  }
  return { result: 'promoted', undecided: false };
};

export const JUDGES = { shipgate, flagger: fixedThreshold(5), strict: fixedThreshold(2), kayenta } as const;
export type JudgeName = keyof typeof JUDGES;

export interface Scenario {
  /** A short id for the worker and a title for the table. */
  id: string;
  steps: string;
  world: Omit<WorldOptions, 'seed'>;
  metric: Metric;
}

export async function runOnce(scenario: Scenario, judge: JudgeName, seed: number): Promise<Verdict> {
  const world = new World({ ...scenario.world, seed });
  return JUDGES[judge](world, parseSteps(scenario.steps), scenario.metric);
}
