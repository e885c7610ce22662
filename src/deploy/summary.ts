import { markdownText } from '../core/untrusted.ts';
import type { Phase } from './strategies.ts';

/**
 * A job-summary section: a heading, facts as a two-column table, then every phase and its
 * outcome. Facts and phase details carry text from outside (GitHub records, reasons, command
 * output), so every cell is escaped: it can add no link, image, heading, HTML or row.
 */
export function phaseSummary(heading: string, facts: ReadonlyArray<[string, string]>, phases: readonly Phase[]): string {
  const cell = (text: string) => markdownText(text, 1000);
  const lines = [`### ${cell(heading)}`, '', '| | |', '|---|---|', ...facts.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), ''];
  if (phases.length) {
    lines.push('| Phase | Result | Detail |', '|---|---|---|');
    for (const p of phases) lines.push(`| ${cell(p.name)} | ${p.passed ? '✅' : '❌'} | ${cell(p.detail)} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
