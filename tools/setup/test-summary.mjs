// Sums the vitest JSON reports that every project's test target wrote to
// <project>/test-results/vitest.json (restored from the Nx cache when the target was cached) and
// prints one line "conifer: N passed, N failed[, N skipped]". Exits 1 when a test failed or none ran.
import { globSync, readFileSync } from 'node:fs';

const files = globSync('{packages,apps,tools,e2e}/{*/,}test-results/vitest.json', { exclude: (p) => p.includes('node_modules') });
let passed = 0,
  failed = 0,
  skipped = 0;
for (const file of files) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  if (report.success === false && !report.numFailedTests) failed++; // a suite that failed to load
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`conifer: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 || passed === 0 ? 1 : 0);
