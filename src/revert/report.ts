import { z } from 'zod';
import { markdownText } from '../core/untrusted.ts';

/** The parts of the canary's `report` output a revert record needs; the rest is ignored. */
export const canaryReportSchema = z.object({
  result: z.string(),
  reason: z.string(),
  steps: z
    .array(
      z.object({
        weight: z.number(),
        readings: z.array(
          z.object({ rule: z.string(), status: z.string(), value: z.number().optional(), bound: z.string(), detail: z.string() }),
        ),
      }),
    )
    .default([]),
});

export type CanaryReport = z.output<typeof canaryReportSchema>;

export const CANARY_REPORT_EXAMPLE = 'canary-report: ${{ steps.canary.outputs.report }}';

/** The last reading of each gate rule, as Markdown table rows: what condemned the canary. */
export function gateReadings(report: CanaryReport): string[] {
  const last = new Map<string, CanaryReport['steps'][number]['readings'][number] & { weight: number }>();
  for (const step of report.steps) for (const reading of step.readings) last.set(reading.rule, { ...reading, weight: step.weight });
  if (last.size === 0) return [];
  const cell = (t: string) => markdownText(t, 300);
  return [
    '| Rule | At weight | Reading | Bound | Status |',
    '|---|---|---|---|---|',
    ...[...last.values()].map(
      (r) => `| ${cell(r.rule)} | ${r.weight}% | ${r.value ?? '—'} | ${cell(r.bound)} | ${cell(r.status)}: ${cell(r.detail)} |`,
    ),
  ];
}
