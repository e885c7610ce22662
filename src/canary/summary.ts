import { formatDuration } from '../core/durations.ts';
import type { RuleReading } from '../gates/gate.ts';
import type { CanaryReport, StepRecord } from './ramp.ts';

const MAX_POINTS = 60;
const icon = { pass: '✅', breach: '⚠️', fail: '❌', 'no-data': '⏳', delayed: '·' } as const;
const verdictText = {
  passed: '✅ passed',
  failed: '❌ gate failed',
  cancelled: '⛔ cancelled',
  'router-failed': '❌ router failed',
  promoted: '🚀 promoted',
} as const;

const fmt = (n: number) => String(Number(n.toPrecision(4)));
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The reading that speaks for a rule in a step: the failing one, else the last one with a value. */
function representative(step: StepRecord, rule: string): RuleReading | undefined {
  const mine = step.readings.filter((r) => r.rule === rule);
  return mine.find((r) => r.status === 'fail') ?? mine.findLast((r) => r.value !== undefined) ?? mine.at(-1);
}

function readingCell(reading: RuleReading | undefined, count: number): string {
  if (!reading) return '—';
  const value = reading.value !== undefined ? `${fmt(reading.value)} ` : reading.status === 'no-data' ? 'no data ' : '';
  return cell(`${icon[reading.status]} ${value}(${reading.bound}, ${count} readings)`);
}

function thin<T>(items: readonly T[]): T[] {
  if (items.length <= MAX_POINTS) return [...items];
  const stride = items.length / MAX_POINTS;
  return Array.from({ length: MAX_POINTS }, (_, i) => items[Math.floor(i * stride)]!).concat(items.at(-1)!);
}

function chart(title: string, yLabel: string, xs: number[], lines: number[][], fixedTop?: number): string {
  const all = lines.flat();
  const bottom = Math.min(0, ...all);
  const top = fixedTop ?? Math.max(...all) * 1.1;
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis "seconds since start" [${xs.map((x) => (x / 1000).toFixed(1)).join(', ')}]`,
    `  y-axis "${yLabel}" ${fmt(bottom)} --> ${fmt(top > bottom ? top : bottom + 1)}`,
    ...lines.map((line) => `  line [${line.map(fmt).join(', ')}]`),
    '```',
  ].join('\n');
}

/** The job summary: the decision, a row per step with every gate reading against its bound, and charts. */
export function canarySummary(report: CanaryReport, rules: readonly string[]): string {
  const decision =
    report.result === 'promoted'
      ? `### 🚀 Canary promoted\n${report.reason}.`
      : `### ↩️ Canary reverted\n${report.reason}.\n\n${report.stableRestored ? 'All traffic is on the stable version.' : '**Traffic could not be put back on stable: check the router now.**'}`;
  const header = ['Step', 'Weight', 'Held', ...rules, 'Verdict'];
  const rows = report.steps.map((step, i) => {
    const held = step.holdMs ? `${formatDuration(step.endedAt - step.startedAt)} of ${formatDuration(step.holdMs)}` : '—';
    const readings = rules.map((rule) => readingCell(representative(step, rule), step.readings.filter((r) => r.rule === rule).length));
    return [String(i + 1), `${step.weight}%`, held, ...readings, verdictText[step.verdict]];
  });
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const timing = `Ramp took ${formatDuration(report.durationMs)} for ${formatDuration(report.plannedHoldMs)} of holds; final canary weight ${report.finalWeight}%.`;

  const charts: string[] = [];
  const readings = report.steps.flatMap((s) => s.readings);
  if (readings.length > 0) {
    // The weight at each look, and where the ramp left it.
    const points = [...thin(readings.filter((r) => r.rule === rules[0])), { at: report.durationMs, weight: report.finalWeight }];
    charts.push(
      chart(
        'Canary weight (%)',
        'weight %',
        points.map((r) => r.at),
        [points.map((r) => r.weight)],
        100,
      ),
    );
  }
  for (const rule of rules) {
    const points = thin(readings.filter((r) => r.rule === rule && r.value !== undefined));
    if (points.length < 2) continue;
    charts.push(
      chart(
        `${rule}: reading (first line) against its bound`,
        'value',
        points.map((r) => r.at),
        [points.map((r) => r.value!), points.map((r) => r.limit ?? r.value!)],
      ),
    );
  }
  return [decision, table, timing, ...charts].join('\n\n') + '\n';
}
