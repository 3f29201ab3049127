// `npm run test:cluster`: the tests of test-cluster/ on a real Temporal cluster on the local PostgreSQL (each test file
// starts its own, on fresh databases). Slower than `npm test` and in need of PostgreSQL, so a tier of its own.
// Without PostgreSQL it says it did not run and why, and exits 0: the default suite is the one every machine runs.
// Ends with one summary line, "N passed, N failed, N skipped", and writes test-results/cluster-summary.json.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { DEFAULT_DATABASE, postgresReachable } from './temporal-cluster.mjs';
import { ensureTemporalServer } from './temporal-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[test:cluster] ${m}`);
const resultsDir = join(root, 'test-results');
mkdirSync(resultsDir, { recursive: true });
const summaryPath = join(resultsDir, 'cluster-summary.json');

function finish(summary) {
  writeFileSync(summaryPath, JSON.stringify(summary, null, 2));
  if (summary.ran) console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  process.exit(summary.ran && (summary.failed > 0 || summary.passed === 0 || summary.exitCode !== 0) ? 1 : 0);
}

if (!(await postgresReachable(DEFAULT_DATABASE))) {
  const reason = `PostgreSQL is not reachable at ${DEFAULT_DATABASE.host}:${DEFAULT_DATABASE.port}`;
  log(`the cluster tier did not run: ${reason}. Start PostgreSQL (see docs/capacity.md) to run it.`);
  finish({ ran: false, reason, passed: 0, failed: 0, skipped: 0, exitCode: 0 });
}

ensureNodeModules(log);
process.env.TEMPORAL_CLI = ensureTemporalCli(log);
const built = ensureTemporalServer(log);
process.env.TEMPORAL_SERVER_BIN = built.server;
process.env.TEMPORAL_SQL_TOOL = built.sqlTool;

const filter = process.argv.slice(2);
const files = readdirSync(join(root, 'test-cluster'))
  .filter((f) => f.endsWith('.test.ts') && (filter.length === 0 || filter.some((p) => f.includes(p))))
  .sort()
  .map((f) => join('test-cluster', f));
log(
  `running ${files.length} test files on Temporal clusters (PostgreSQL ${DEFAULT_DATABASE.host}:${DEFAULT_DATABASE.port})`,
);

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-timeout=1200000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    '--test-reporter-destination=test-results/cluster.tap',
    ...files,
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { LOG_LEVEL: 'warn', ...process.env, NODE_ENV: 'test' } },
);
let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});
child.on('exit', (code) => {
  const count = (name) => {
    const matches = [...output.matchAll(new RegExp(`^ℹ ${name} (\\d+)`, 'gm'))];
    return matches.length ? Number(matches[matches.length - 1][1]) : 0;
  };
  finish({
    ran: true,
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
    exitCode: code ?? 1,
  });
});
