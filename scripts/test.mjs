// `npm test`: installs what is missing (npm packages, the Temporal CLI), checks types and style, runs every test
// against real servers, and ends with one summary line: "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './ensure-browser.mjs';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { runTestFiles, specTotals } from './test-runner.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[test] ${m}`);

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found.sort();
}

function step(name, command, args) {
  log(`${name}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

ensureNodeModules(log);
process.env.TEMPORAL_CLI = ensureTemporalCli(log);
log(`Temporal CLI: ${process.env.TEMPORAL_CLI}`);

const filter = process.argv.slice(2);
const checks = [];
if (filter.length === 0) {
  checks.push(['typecheck', step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])]);
  checks.push(['lint', step('lint', 'npx', ['eslint', '.'])]);
  checks.push(['format', step('format', 'npx', ['prettier', '--check', '.'])]);
  // Layering (protocol and pure layers never import the processes above them) and no import cycles:
  // .dependency-cruiser.cjs. Unused files, exports and dependencies: knip.json.
  checks.push([
    'imports',
    step('imports', 'npx', [
      'depcruise',
      'src',
      'bench',
      'test',
      'test-cluster',
      '--config',
      '.dependency-cruiser.cjs',
    ]),
  ]);
  checks.push(['dead code', step('dead code', 'npx', ['knip'])]);
}

const files = findTests(join(root, 'test')).filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
// The Web UI test drives Debian's Chromium; installing it is slow, so only when that test is selected. If it cannot be
// installed the test itself fails and says why, and the other tests still run.
if (files.some((f) => f.startsWith(join('test', 'ui') + sep))) {
  try {
    log(`Chromium for the Web UI test: ${ensureChromium(log)}`);
  } catch (error) {
    log(`Chromium is not available: ${error.message}`);
  }
}
log(`running ${files.length} test files`);
mkdirSync(join(root, 'test-results'), { recursive: true });

// Each file is one test of the runner too, so --test-timeout bounds a whole file: ordinary files get 3 minutes; the
// runs that start a whole stack and drive it through faults (test/chaos, test/start) get their own bound, 25 minutes,
// and so do the poll cycle's reads of 20,000 and 25,000 records on a real dev server (2 min 48 s alone on 2 cores).
const LONG_RUNNING = [
  join('test', 'chaos') + sep,
  join('test', 'start') + sep,
  join('test', 'workflows', 'pollCycleBoundedHistory.temporal.test.ts'),
];
const groups = [
  {
    name: 'tests',
    timeoutMs: 180_000,
    files: files.filter((f) => !LONG_RUNNING.some((prefix) => f.startsWith(prefix))),
  },
  {
    name: 'long-tests',
    timeoutMs: 25 * 60_000,
    files: files.filter((f) => LONG_RUNNING.some((prefix) => f.startsWith(prefix))),
  },
].filter((group) => group.files.length > 0);

function runGroup(group) {
  return runTestFiles({
    cwd: root,
    files: group.files,
    timeoutMs: group.timeoutMs,
    tapFile: `test-results/${group.name}.tap`,
    env: { LOG_LEVEL: 'warn', ...process.env, NODE_ENV: 'test' },
    log: (m) => log(`${group.name}: ${m}`),
  });
}

const runs = [];
for (const group of groups) runs.push(await runGroup(group));
const totals = runs.map(({ output }) => specTotals(output));
const sum = (key) => totals.reduce((n, t) => n + t[key], 0);
const failedChecks = checks.filter(([, ok]) => !ok).map(([name]) => name);
const passed = sum('passed') + checks.length - failedChecks.length;
const failed = sum('failed') + failedChecks.length;
const skipped = sum('skipped');
const exitCodes = runs.map(({ code }) => code);
writeFileSync(
  join(root, 'test-results', 'summary.json'),
  JSON.stringify({ passed, failed, skipped, failedChecks, exitCodes }, null, 2),
);
if (failedChecks.length) console.log(`failed checks: ${failedChecks.join(', ')}`);
const ok = exitCodes.every((code) => code === 0) && failed === 0 && passed > 0;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
