import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runEdgeFuzz } from './edgeFuzz';

/**
 * `npm run fuzz -- --runs 100000 [--seed N] [--out path]`: fuzzes the public edge and writes the runs, timings and every
 * finding to a JSON file (default fuzz-results/edge-fuzz.json). Exits 1 when anything was found.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' }, out: { type: 'string' } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error('--runs must be a positive integer');
  const out = resolve(values.out ?? join(__dirname, '..', '..', 'fuzz-results', 'edge-fuzz.json'));
  const report = await runEdgeFuzz({
    runs,
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    progress: (t) =>
      console.log(`${t.target}: ${t.runs} runs, ${t.findings} findings, max ${t.maxMs} ms, p99 ${t.p99Ms} ms`),
  });
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...report, finishedAt: new Date().toISOString() }, null, 2)}\n`);
  console.log(`seed ${report.seed}: ${report.findings.length} findings; report in ${out}`);
  process.exit(report.findings.length === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
