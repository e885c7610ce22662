import { formatDuration } from '../core/durations.ts';
import { markdownText } from '../core/untrusted.ts';
import { evidence, exact, percent, round } from '../gates/format.ts';
import type { ComparisonReading, RuleReading } from '../gates/readings.ts';
import type { CanaryReport, StepRecord } from './ramp.ts';

/** Points on a chart's time axis: enough to see the ramp, few enough to read every label. */
const GRID_POINTS = 24;

const icon = { pass: '✅', breach: '⚠️', fail: '❌', inconclusive: '❔', 'no-data': '⏳', delayed: '·' } as const;
const stateIcon = { worse: '❌', 'not worse': '✅', inconclusive: '❔' } as const;
const verdictText = {
  passed: '✅ passed',
  failed: '❌ gate failed',
  undecided: '❔ undecided: reverted',
  cancelled: '⛔ cancelled',
  'router-failed': '❌ router failed',
  'router-changed': '↩️ router changed by someone else',
  promoted: '🚀 promoted',
} as const;

const cell = (text: string) => markdownText(text, 400);

/** The reading that speaks for a rule in a step: the failing one, else the last one. */
function representative(step: StepRecord, rule: string): RuleReading | undefined {
  const mine = step.readings.filter((r) => r.rule === rule);
  return mine.find((r) => r.status === 'fail') ?? mine.findLast((r) => r.status !== 'no-data') ?? mine.at(-1);
}

const side = (c: { failures: number; requests: number }) =>
  `${exact(c.failures)}/${exact(c.requests)} (${percent(c.failures, c.requests)})`;

function comparisonText(c: ComparisonReading): string {
  const slow = c.slowerThan !== undefined ? ` slower than ${c.slowerThan}s` : '';
  const more =
    c.state === 'inconclusive' && c.moreRequests !== undefined ? `; about ${exact(c.moreRequests)} more canary requests to decide` : '';
  return `${c.state}: canary ${side(c.canary)}${slow} vs stable ${side(c.stable)}; worse ${evidence(c.worse.evidence)} of ${evidence(c.worse.bound)}, not worse ${evidence(c.notWorse.evidence)} of ${evidence(c.notWorse.bound)}${more}`;
}

function readingCell(reading: RuleReading | undefined, count: number): string {
  if (!reading) return '—';
  const readings = `${count} reading${count === 1 ? '' : 's'}`;
  if (reading.comparison && reading.status !== 'no-data') {
    return `${stateIcon[reading.comparison.state]} ${cell(comparisonText(reading.comparison))} (${readings})`;
  }
  if (reading.value !== undefined && reading.status !== 'fail' && reading.status !== 'breach') {
    return `${icon[reading.status]} ${round(reading.value)} (${cell(reading.bound)}, ${readings})`;
  }
  // A failed, breached, silent or inconclusive cell says why in the rule's own words.
  return `${icon[reading.status]} ${cell(reading.detail)} (${readings})`;
}

/** Seconds, minutes or hours, whichever keeps the labels short. */
function timeAxis(durationMs: number): { title: string; unitMs: number } {
  if (durationMs <= 120_000) return { title: 'seconds since start', unitMs: 1000 };
  if (durationMs <= 7_200_000) return { title: 'minutes since start', unitMs: 60_000 };
  return { title: 'hours since start', unitMs: 3_600_000 };
}

/**
 * An even time grid with a round step (1, 2 or 5 times a power of ten of the axis' unit) from
 * `from` to `to`, so that equal distances on the chart are equal times and the labels read well.
 */
function grid(axis: ReturnType<typeof timeAxis>, from: number, to: number): number[] {
  const span = Math.max(to - from, 1) / axis.unitMs;
  const rough = span / (GRID_POINTS - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power) * axis.unitMs;
  const start = Math.floor(from / step) * step;
  const count = Math.ceil((to - start) / step - 1e-9);
  return Array.from({ length: count + 1 }, (_, i) => start + i * step);
}

/** The value of a step function (sorted by time) at `t`: the last point at or before it (the first, before any). */
function at<T extends { at: number }>(points: readonly T[], t: number): T | undefined {
  let found: T | undefined = points[0];
  for (const p of points) {
    if (p.at > t + 1e-6) break;
    found = p;
  }
  return found;
}

function chart(
  title: string,
  yLabel: string,
  axis: ReturnType<typeof timeAxis>,
  xs: number[],
  lines: number[][],
  range?: [number, number],
): string {
  const all = lines.flat();
  const bottom = range?.[0] ?? Math.min(0, ...all);
  const topRaw = range?.[1] ?? Math.max(...all) + (Math.max(...all) - bottom) * 0.1;
  const top = topRaw > bottom ? topRaw : bottom + 1;
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${title.replace(/"/g, "'")}"`,
    `  x-axis "${axis.title}" [${xs.map((x) => `"${round(x / axis.unitMs)}"`).join(', ')}]`,
    `  y-axis "${yLabel}" ${round(bottom)} --> ${round(top)}`,
    ...lines.map((line) => `  line [${line.map(round).join(', ')}]`),
    '```',
  ].join('\n');
}

function comparisonTable(report: CanaryReport, rules: readonly string[]): string | undefined {
  const last = rules
    .map((rule) => report.steps.flatMap((s) => s.readings).findLast((r) => r.rule === rule && r.comparison))
    .filter((r): r is RuleReading & { comparison: ComparisonReading } => r !== undefined);
  if (last.length === 0) return undefined;
  const rows = last.map(({ rule, comparison: c }) => [
    cell(rule),
    `${stateIcon[c.state]} ${c.state}`,
    side(c.canary) + (c.slowerThan !== undefined ? ` slower than ${c.slowerThan}s` : ''),
    side(c.stable),
    `${evidence(c.worse.evidence)} (reverts at ${evidence(c.worse.bound)})`,
    `${evidence(c.notWorse.evidence)} (passes at ${evidence(c.notWorse.bound)})`,
    `canary ≤ ${round(c.margin.canaryUpper * 100)}%, stable ≥ ${round(c.margin.stableLower * 100)}% (passes within ${round(c.margin.maxIncrease * 100)} pp)`,
    c.state === 'inconclusive' ? (c.moreRequests !== undefined ? `about ${exact(c.moreRequests)}` : 'more than a million') : '—',
  ]);
  const header = [
    'Comparison',
    'State',
    'Canary failed/requests',
    'Stable failed/requests',
    'Evidence worse',
    'Evidence not worse',
    'Rates (anytime bounds)',
    'More canary requests to decide',
  ];
  return [
    '#### Comparisons with stable (the counts the test weighed, since the ramp began)',
    [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n'),
  ].join('\n\n');
}

/** The job summary: the decision, a row per step with every gate reading against its bound, and charts. */
export function canarySummary(report: CanaryReport, rules: readonly string[]): string {
  const decision =
    report.result === 'promoted'
      ? `### 🚀 Canary promoted\n${cell(report.reason)}.`
      : `### ↩️ Canary reverted\n${cell(report.reason)}.\n\n${report.stableRestored ? 'All traffic is on the stable version.' : '**Traffic could not be put back on stable: check the router now.**'}`;
  const header = ['Step', 'Weight', 'Held', ...rules.map(cell), 'Verdict'];
  const rows = report.steps.map((step, i) => {
    const extended = step.extendedMs > 0 ? ` (+${formatDuration(step.extendedMs)} extended)` : '';
    const held = step.holdMs ? `${formatDuration(step.endedAt - step.startedAt)} of ${formatDuration(step.holdMs)}${extended}` : '—';
    const readings = rules.map((rule) => readingCell(representative(step, rule), step.readings.filter((r) => r.rule === rule).length));
    return [String(i + 1), `${step.weight}%`, held, ...readings, verdictText[step.verdict]];
  });
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const looks =
    report.lookEveryMs !== undefined
      ? ` Comparisons with stable looked every ${formatDuration(report.lookEveryMs)}${report.scrapeIntervalMs !== undefined ? ` (Prometheus scrapes every ${formatDuration(report.scrapeIntervalMs)})` : ''}.`
      : '';
  const timing = `Ramp took ${formatDuration(report.durationMs)} for ${formatDuration(report.plannedHoldMs)} of holds; final canary weight ${report.finalWeight}%.${looks}`;

  const charts: string[] = [];
  const end = Math.max(report.durationMs, 1);
  const axis = timeAxis(end);
  const weights = [...report.steps.map((s) => ({ at: s.startedAt, weight: s.weight })), { at: end, weight: report.finalWeight }];
  const xs = grid(axis, 0, end);
  charts.push(chart('Canary weight (%)', 'weight %', axis, xs, [xs.map((t) => at(weights, t)?.weight ?? 0)], [0, 100]));
  const readings = report.steps.flatMap((s) => s.readings);
  for (const rule of rules) {
    const mine = readings.filter((r) => r.rule === rule);
    const compared = mine.filter((r) => r.comparison && r.comparison.canary.requests > 0);
    if (compared.length >= 2) {
      const ts = grid(axis, compared[0]!.at, end);
      const log10 = (ln: number) => ln / Math.LN10;
      const c = (t: number) => at(compared, t)!.comparison!;
      charts.push(
        chart(`${rule}: log10 evidence worse (up) and not worse (down), clipped at 5, with both boundaries`, 'log10 evidence', axis, ts, [
          ts.map((t) => Math.max(-5, Math.min(5, log10(c(t).worse.evidence)))),
          ts.map((t) => log10(c(t).worse.bound)),
          ts.map((t) => -Math.max(-5, Math.min(5, log10(c(t).notWorse.evidence)))),
          ts.map((t) => -log10(c(t).notWorse.bound)),
        ]),
      );
      continue;
    }
    const valued = mine.filter((r) => r.value !== undefined);
    if (valued.length < 2) continue;
    const ts = grid(axis, valued[0]!.at, end);
    charts.push(
      chart(`${rule}: reading (first line) against its bound`, 'value', axis, ts, [
        ts.map((t) => at(valued, t)!.value!),
        ts.map((t) => at(valued, t)!.limit ?? at(valued, t)!.value!),
      ]),
    );
  }
  const comparisons = comparisonTable(report, rules);
  return [decision, table, timing, ...(comparisons ? [comparisons] : []), ...charts].join('\n\n') + '\n';
}
