import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends every run with one plain line, `N passed, N failed, N skipped`, after vitest's own summary:
 * the line CI reads to know tests ran. A file that failed before any test (a missing program, a
 * syntax error) counts as one failure.
 */
export default class ClosingLine implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++;
      }
      failed += failedHere || (module.state() === 'failed' ? 1 : 0);
    }
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
