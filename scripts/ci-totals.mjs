// The one closing line CI reads, for both tiers: `node scripts/ci-totals.mjs <npm test's exit code> <the cluster
// tier's exit code> [results dir]` adds test-results/summary.json (npm test) and test-results/cluster-summary.json
// (npm run test:cluster), says whether the cluster tier ran and why not, prints "N passed, N failed, N skipped" last and exits
// non-zero when either tier failed. A tier that died before writing its summary counts as one failure.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [unitCode, clusterCode] = process.argv.slice(2, 4).map(Number);
const resultsDir = process.argv[4] ?? join(root, 'test-results');

function read(name) {
  const path = join(resultsDir, name);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

const tiers = [
  { name: 'npm test', code: unitCode, summary: read('summary.json') },
  { name: 'cluster tier', code: clusterCode, summary: read('cluster-summary.json') },
];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const tier of tiers) {
  const s = tier.summary;
  if (s === undefined) {
    console.log(`[ci] ${tier.name}: no summary (exit code ${tier.code}); counted as one failure`);
    failed += 1;
    continue;
  }
  if (s.ran === false) {
    console.log(`[ci] ${tier.name}: did not run: ${s.reason}`);
    continue;
  }
  console.log(
    `[ci] ${tier.name}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (exit code ${tier.code})`,
  );
  passed += s.passed;
  // A tier that exited non-zero with nothing counted failed all the same.
  failed += s.failed > 0 || tier.code === 0 ? s.failed : 1;
  skipped += s.skipped;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(tiers.every((t) => t.code === 0) && failed === 0 ? 0 : 1);
