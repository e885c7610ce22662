// The canary's verdict, measured: the real gate and the real ramp (on a simulated clock) against a
// simulated Prometheus, thousands of seeded runs per scenario, side by side with a fixed threshold
// as Flagger and Argo Rollouts users write it and a Kayenta-style Mann–Whitney judge, all three
// reading the same simulated series. `npm run bench -- decisions`; BENCH_DECISION_SCALE=0.1 for a
// quick look, BENCH_WORKERS for the threads.
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseSteps } from '../src/canary/schedule.ts';
import { cleanRequestsToPass } from '../src/gates/sequential.ts';
import type { JudgeName, Scenario, Verdict } from './sim/judges.ts';
import type { Task, TaskResult } from './sim/worker.ts';
import type { BenchTable } from './table.ts';

const SCALE = Number(process.env.BENCH_DECISION_SCALE ?? 1);
const WORKERS = Number(process.env.BENCH_WORKERS ?? Math.min(2, cpus().length));
const runs = (n: number) => Math.max(10, Math.round(n * SCALE));

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5];
const world = (rps: number, failureFactor: number, latencyFactor = 1, extra: Partial<Scenario['world']> = {}): Scenario['world'] => ({
  rps,
  scrapeMs: 15_000,
  stableFailureRate: 0.005,
  canaryFailureRate: 0.005 * failureFactor,
  latency: { median: 0.05, sigma: 0.5, canaryFactor: latencyFactor },
  buckets: BUCKETS,
  processesPerSide: 1,
  ...extra,
});

const JUDGE_NAMES: Record<JudgeName, string> = {
  shipgate: 'Shipgate (defaults)',
  flagger: 'threshold, rollback at 5 failed checks',
  strict: 'threshold, rollback at 2 failed checks',
  kayenta: 'Kayenta-style Mann–Whitney (0.98)',
};
const ALL: JudgeName[] = ['shipgate', 'flagger', 'strict', 'kayenta'];

interface Plan {
  scenario: Scenario;
  title: string;
  runs: number;
  /** Whether the canary is worse than stable: detection is right, promotion a miss. */
  worse: boolean;
}

const SCHEDULE = '10%:5m, 50%:5m, 100%';
const restarts = [
  { side: 'stable' as const, process: 0, atMs: 240_000, downMs: 20_000 },
  { side: 'canary' as const, process: 1, atMs: 420_000, downMs: 20_000 },
];

const equalPlans: Plan[] = [
  ['1 h', '10%:1h, 100%', 2000],
  ['6 h', '10%:6h, 100%', 400],
  ['24 h', '10%:24h, 100%', 200],
].map(([title, steps, n]) => ({
  scenario: { id: `equal-${title}`, steps: steps as string, world: world(200, 1), metric: 'errors' },
  title: title as string,
  runs: runs(n as number),
  worse: false,
}));

const regressionPlans: Plan[] = [
  { title: 'equal (both 0.5%)', factor: 1, latency: 1, worse: false },
  { title: '1.5× failures (0.75%)', factor: 1.5, latency: 1, worse: true },
  { title: '2× failures (1%)', factor: 2, latency: 1, worse: true },
  { title: '3× failures (1.5%)', factor: 3, latency: 1, worse: true },
  { title: 'equal latency', factor: 1, latency: 1, worse: false, metric: 'latency' as const },
  { title: '+30% latency (p95 114 → 148 ms)', factor: 1, latency: 1.3, worse: true, metric: 'latency' as const },
  { title: 'equal, restarts + 5% missed scrapes', factor: 1, latency: 1, worse: false, robust: true },
  { title: '2×, restarts + 5% missed scrapes', factor: 2, latency: 1, worse: true, robust: true },
].map((p) => ({
  scenario: {
    id: p.title,
    steps: SCHEDULE,
    world: world(100, p.factor, p.latency, p.robust ? { processesPerSide: 2, restarts, scrapeGap: 0.05 } : {}),
    metric: p.metric ?? 'errors',
  },
  title: p.title,
  runs: runs(1000),
  worse: p.worse,
}));

const lowTraffic: Plan = {
  scenario: { id: 'low-traffic', steps: '25%:30s, 50%:30s, 100%', world: world(20, 3), metric: 'errors' },
  title: '3× failures (1.5% vs 0.5%) at 20 rps, 25%:30s, 50%:30s',
  runs: runs(2000),
  worse: true,
};

/** Runs every (plan, judge) on the workers, in batches of seeds. */
async function simulate(plans: Plan[], judges: JudgeName[]): Promise<Map<string, Verdict[]>> {
  const tasks: Task[] = [];
  const BATCH = 25;
  for (const plan of plans) {
    for (const judge of judges) {
      for (let first = 1; first <= plan.runs; first += BATCH) {
        const seeds = Array.from({ length: Math.min(BATCH, plan.runs - first + 1) }, (_, i) => first + i);
        tasks.push({ key: `${plan.scenario.id}|${judge}`, scenario: plan.scenario, judge, seeds });
      }
    }
  }
  // The long ramps first, so no worker is left with one at the end.
  tasks.sort((a, b) => parseSteps(b.scenario.steps)[0]!.holdMs - parseSteps(a.scenario.steps)[0]!.holdMs);
  const results = new Map<string, Verdict[]>();
  const workers = Array.from({ length: WORKERS }, () => new Worker(new URL('./sim/worker.ts', import.meta.url)));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((done, fail) => {
            const next = () => {
              const task = tasks.shift();
              if (!task) return done();
              worker.postMessage(task);
            };
            worker.on('message', (result: TaskResult) => {
              results.set(result.key, [...(results.get(result.key) ?? []), ...result.verdicts]);
              next();
            });
            worker.on('error', fail);
            next();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

const share = (part: number, whole: number) => `${((100 * part) / whole).toFixed(part && part < whole / 100 ? 2 : 1)}% (${part}/${whole})`;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const minutes = (ms: number) => (Number.isFinite(ms) ? `${(ms / 60_000).toFixed(1)} min` : 'not found');

export async function run(): Promise<BenchTable[]> {
  const started = performance.now();
  const results = await simulate([...equalPlans, ...regressionPlans, lowTraffic], ALL);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const total = [...results.values()].reduce((n, v) => n + v.length, 0);
  const of = (plan: Plan, judge: JudgeName) => results.get(`${plan.scenario.id}|${judge}`)!;

  const equal: BenchTable = {
    title: 'An equal canary (both sides 0.5% failures, 200 rps, canary at 10%): share of runs reverted, by ramp length',
    columns: ['ramp', ...ALL.map((j) => JUDGE_NAMES[j])],
    rows: equalPlans.map((plan) => [
      plan.title,
      ...ALL.map((j) => share(of(plan, j).filter((v) => v.result === 'reverted').length, plan.runs)),
    ]),
    notes: [
      'Shipgate: errors-vs-stable with its defaults (max-ratio 2, max-increase 0.001, confidence 0.99), looking every 7.5 s (half the 15 s scrape); the guarantee is at most 1% at any ramp length. Thresholds: error ratio over 1 m ≤ 1%, measured every minute. Kayenta-style: per-minute error ratios of each side over every 5-minute interval, Mann–Whitney at confidence 0.98.',
    ],
  };

  const planned = parseSteps(SCHEDULE).reduce((s, x) => s + x.holdMs, 0);
  const rows: string[][] = [];
  for (const plan of [...regressionPlans, lowTraffic]) {
    for (const judge of ALL) {
      const verdicts = of(plan, judge);
      const promoted = verdicts.filter((v) => v.result === 'promoted').length;
      const holds = parseSteps(plan.scenario.steps).reduce((s, x) => s + x.holdMs, 0);
      const found = verdicts.filter((v) => v.detectedAtMs !== undefined && v.detectedAtMs <= holds).length;
      const detection = verdicts.map((v) => v.detectedAtMs ?? Infinity);
      const undecided = verdicts.filter((v) => v.undecided).length;
      rows.push([
        plan.title,
        JUDGE_NAMES[judge],
        share(promoted, verdicts.length),
        plan.worse ? share(found, verdicts.length) : share(verdicts.length - promoted - undecided, verdicts.length),
        plan.worse ? minutes(quantile(detection, 0.5)) : '',
        plan.worse ? minutes(quantile(detection, 0.95)) : '',
        judge === 'shipgate' ? share(undecided, verdicts.length) : 'n/a',
      ]);
    }
  }
  const regressions: BenchTable = {
    title: `Regressions at 100 rps, 0.5% background failures, steps "${SCHEDULE}" (${planned / 60_000} min of holds)`,
    columns: [
      'canary',
      'judge',
      'promoted',
      'found worse within the holds (equal: reverted as worse)',
      'time to detect: median',
      'p95',
      'reverted undecided',
    ],
    rows,
    notes: [
      'Time to detect counts from the first weight change; a run where the judge never found the canary worse counts as never (so a median reads "not found" when fewer than half found it). Latency rows use latency-vs-stable (quantile 0.95, max-ratio 1.5) and, for the others, p95 over 1 m ≤ 150 ms; stable’s p95 is 114 ms (log-normal, median 50 ms, sigma 0.5, Prometheus buckets up to 0.15, 0.2, 0.3 s). Restarts: two processes per side, one stable process down 20 s at 4 min and one canary process at 7 min, counters back to zero; every scrape missed with probability 5%.',
      `Clean traffic: with no failure on either side, the absolute margin shows "not worse" after ${cleanRequestsToPass({ maxRatio: 2, maxIncrease: 0.001, confidence: 0.99 }).toLocaleString('en-US')} canary requests at the defaults.`,
      `${total.toLocaleString('en-US')} simulated ramps in ${seconds} s on ${WORKERS} worker threads; seeds 1…N, the same for every judge, so all read the same series.`,
    ],
  };
  return [equal, regressions];
}
