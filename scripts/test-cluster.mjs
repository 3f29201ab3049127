// `npm run test:cluster`: the tests of test-cluster/ on a real Temporal cluster on the local PostgreSQL (each test file
// starts its own, on fresh databases). Slower than `npm test` and in need of PostgreSQL, so a tier of its own.
// Without PostgreSQL it says it did not run and why, and exits 0: the default suite is the one every machine runs.
// Ends with one summary line, "N passed, N failed, N skipped", and writes test-results/cluster-summary.json
// (`.ci/run` adds it to npm test's figures).
//
// The tier must never hang CI nor leave anything behind that breaks the next run: its processes are killed as a group
// (scripts/test-runner.mjs), also once the tier outlives its bound; the tests' databases are dropped afterwards, and
// PostgreSQL, which a test restarts, is started again if a crash left it down.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './ensure-deps.mjs';
import { onPath } from './go-tools.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { DEFAULT_DATABASE, postgresReachable } from './temporal-cluster.mjs';
import { ensureTemporalServer } from './temporal-server.mjs';
import { runTestFiles, specTotals } from './test-runner.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[test:cluster] ${m}`);
const resultsDir = join(root, 'test-results');
mkdirSync(resultsDir, { recursive: true });
const summaryPath = join(resultsDir, 'cluster-summary.json');
// One file's bound, and the whole tier's (builds excluded): past it the tier is stopped and counted as failed.
const FILE_TIMEOUT_MS = Number(process.env.CLUSTER_FILE_TIMEOUT_MS ?? 15 * 60_000);
const TIER_TIMEOUT_MS = Number(process.env.CLUSTER_TIER_TIMEOUT_MS ?? 30 * 60_000);
// The prefix of every database a cluster test creates (test-cluster/support/cluster.ts).
const TEST_DATABASE_PREFIX = 'temporal_qbsync_test_';

function finish(summary) {
  writeFileSync(summaryPath, JSON.stringify(summary, null, 2));
  if (summary.ran) console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  process.exit(summary.ran && (summary.failed > 0 || summary.passed === 0 || summary.exitCode !== 0) ? 1 : 0);
}

/** psql against the local PostgreSQL, or undefined when psql is not installed. */
function psql(sql) {
  const command = onPath('psql');
  if (!command) return undefined;
  const result = spawnSync(
    command,
    [
      '-X',
      '-A',
      '-t',
      '-h',
      DEFAULT_DATABASE.host,
      '-p',
      String(DEFAULT_DATABASE.port),
      '-U',
      DEFAULT_DATABASE.user,
      '-d',
      'postgres',
      '-c',
      sql,
    ],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: DEFAULT_DATABASE.password }, timeout: 60_000 },
  );
  return result.status === 0 ? result.stdout : undefined;
}

/** Drops the databases a test left (a file killed before its own cleanup), so nothing accumulates across runs. */
function dropTestDatabases() {
  const names = (psql(`SELECT datname FROM pg_database WHERE datname LIKE '${TEST_DATABASE_PREFIX}%'`) ?? '')
    .split('\n')
    .map((n) => n.trim())
    .filter((n) => n.startsWith(TEST_DATABASE_PREFIX) && /^[a-z0-9_]+$/.test(n));
  for (const name of names) {
    // WITH (FORCE): PostgreSQL 13 and later close the connections a killed server left open.
    if (psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) !== undefined) log(`dropped database ${name}`);
  }
}

/**
 * A test restarts the machine's PostgreSQL; a run killed in that moment would leave it down for the next run (and for
 * every other user of the machine). Starts it again as the machine's service manager does.
 */
async function restorePostgres() {
  if (await postgresReachable(DEFAULT_DATABASE)) return;
  const lsclusters = onPath('pg_lsclusters');
  const ctl = onPath('pg_ctlcluster');
  if (!lsclusters || !ctl) return;
  const line = spawnSync(lsclusters, ['--no-header'], { encoding: 'utf8' })
    .stdout?.split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((fields) => fields[2] === String(DEFAULT_DATABASE.port));
  if (!line) return;
  log(`PostgreSQL ${line[0]}/${line[1]} is down after the tier; starting it again`);
  spawnSync(ctl, ['--skip-systemctl-redirect', line[0], line[1], 'start'], { stdio: 'inherit', timeout: 120_000 });
}

if (!(await postgresReachable(DEFAULT_DATABASE))) {
  const reason = `PostgreSQL is not reachable at ${DEFAULT_DATABASE.host}:${DEFAULT_DATABASE.port}`;
  log(`the cluster tier did not run: ${reason}. Start PostgreSQL (see docs/deployment.md §3a) to run it.`);
  finish({ ran: false, reason, passed: 0, failed: 0, skipped: 0, exitCode: 0 });
}

ensureNodeModules(log);
process.env.TEMPORAL_CLI = ensureTemporalCli(log);
const buildStarted = Date.now();
const built = ensureTemporalServer(log);
const buildSeconds = (Date.now() - buildStarted) / 1000;
process.env.TEMPORAL_SERVER_BIN = built.server;
process.env.TEMPORAL_SQL_TOOL = built.sqlTool;

const filter = process.argv.slice(2);
const files = readdirSync(join(root, 'test-cluster'))
  .filter((f) => f.endsWith('.test.ts') && (filter.length === 0 || filter.some((p) => f.includes(p))))
  .sort()
  .map((f) => join('test-cluster', f));
dropTestDatabases();
log(
  `running ${files.length} test files on Temporal clusters (PostgreSQL ${DEFAULT_DATABASE.host}:${DEFAULT_DATABASE.port})`,
);

const started = Date.now();
const run = await runTestFiles({
  cwd: root,
  files,
  timeoutMs: FILE_TIMEOUT_MS,
  tapFile: 'test-results/cluster.tap',
  boundMs: TIER_TIMEOUT_MS,
  env: { LOG_LEVEL: 'warn', ...process.env, NODE_ENV: 'test' },
  log,
});
await restorePostgres();
dropTestDatabases();
const totals = specTotals(run.output);
finish({
  ran: true,
  ...totals,
  failed: totals.failed + (run.timedOut ? 1 : 0),
  exitCode: run.code ?? 1,
  timedOut: run.timedOut,
  buildSeconds: Math.round(buildSeconds),
  testSeconds: Math.round((Date.now() - started) / 1000),
});
