/** One section of `npm run bench`: a titled table, printed as Markdown so it pastes into notes. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: string[][];
  notes?: string[];
}

export function printTable(table: BenchTable): void {
  const widths = table.columns.map((c, i) => Math.max(c.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n### ${table.title}\n`);
  console.log(line(table.columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table.rows) console.log(line(row));
  for (const note of table.notes ?? []) console.log(`\n${note}`);
}
