// `npm run bench [section…]`: speed and safety figures against real servers, printed as tables.
// Sections: one module per action under bench/, each exporting `run(): Promise<BenchTable[]>`.
import { readdir } from 'node:fs/promises';
import { printTable, type BenchTable } from './table.ts';

const wanted = process.argv.slice(2);
const sections = (await readdir(new URL('.', import.meta.url)))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name));
for (const name of sections) {
  const section = (await import(`./${name}.bench.ts`)) as { run: () => Promise<BenchTable[]> };
  for (const table of await section.run()) printTable(table);
}
process.exit(0);
