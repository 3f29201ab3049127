// `npm test`: installs what is missing (npm packages, the Temporal CLI), checks types and style, runs every test
// against real servers, and ends with one summary line: "N passed, N failed, N skipped".
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './ensure-browser.mjs';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';

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

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-timeout=180000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    '--test-reporter-destination=test-results/tests.tap',
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
  const failedChecks = checks.filter(([, ok]) => !ok).map(([name]) => name);
  const passed = count('pass') + checks.length - failedChecks.length;
  const failed = count('fail') + count('cancelled') + failedChecks.length;
  const skipped = count('skipped') + count('todo');
  writeFileSync(
    join(root, 'test-results', 'summary.json'),
    JSON.stringify({ passed, failed, skipped, failedChecks, exitCode: code }, null, 2),
  );
  if (failedChecks.length) console.log(`failed checks: ${failedChecks.join(', ')}`);
  const ok = code === 0 && failed === 0 && passed > 0;
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(ok ? 0 : 1);
});
