import type { Phase } from './strategies.ts';

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A job-summary section: a heading, facts as a two-column table, then every phase and its outcome. */
export function phaseSummary(heading: string, facts: ReadonlyArray<[string, string]>, phases: readonly Phase[]): string {
  const lines = [`### ${heading}`, '', '| | |', '|---|---|', ...facts.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), ''];
  if (phases.length) {
    lines.push('| Phase | Result | Detail |', '|---|---|---|');
    for (const p of phases) lines.push(`| ${cell(p.name)} | ${p.passed ? '✅' : '❌'} | ${cell(p.detail)} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
