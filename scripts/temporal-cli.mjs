// Finds the Temporal CLI (which holds `temporal server start-dev` and the Web UI), building it from Go modules
// once when it is not installed. Nothing is downloaded at run time except Go modules through the Go proxy.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, unlinkSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsBin = join(root, '.tools', 'bin');
const builtCli = join(toolsBin, 'temporal');

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function buildFromGoModules(log) {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return undefined;
  mkdirSync(toolsBin, { recursive: true });
  // One build at a time: a second caller waits for the first one's binary.
  const lock = join(toolsBin, '.build.lock');
  let fd;
  for (let waited = 0; ; waited += 2000) {
    try {
      fd = openSync(lock, 'wx');
      break;
    } catch {
      if (existsSync(builtCli) && !existsSync(lock)) return builtCli;
      if (waited > 45 * 60 * 1000) throw new Error(`Timed out waiting for another Temporal CLI build (lock ${lock}).`);
      sleepSync(2000);
      if (existsSync(builtCli) && !existsSync(lock)) return builtCli;
    }
  }
  try {
    if (existsSync(builtCli)) return builtCli;
    log(
      `Building the Temporal CLI v${TEMPORAL_CLI_VERSION} from Go modules into ${toolsBin} (once; several minutes)...`,
    );
    const result = spawnSync(
      go,
      [
        'install',
        '-trimpath',
        '-ldflags',
        `-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
        `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, CGO_ENABLED: '0', GOBIN: toolsBin, GOFLAGS: '-buildvcs=false' },
      },
    );
    if (result.status !== 0 || !existsSync(builtCli)) return undefined;
    log(`Temporal CLI built: ${builtCli}`);
    return builtCli;
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}

/** Path of a usable `temporal` executable, or throws an error that names the ways to install one. */
export function ensureTemporalCli(log = (m) => console.error(m)) {
  if (process.env.TEMPORAL_CLI && existsSync(process.env.TEMPORAL_CLI)) return process.env.TEMPORAL_CLI;
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  if (existsSync(builtCli)) return builtCli;
  const built = buildFromGoModules(log);
  if (built) return built;
  throw new Error(
    [
      'No Temporal CLI found, and it could not be built.',
      'Install it in one of these ways, then run the command again:',
      `  1. Put an existing \`temporal\` binary on PATH (or set TEMPORAL_CLI=/path/to/temporal).`,
      `  2. Install Go >= 1.25 with access to a Go module proxy; this project then builds it itself with:`,
      `     CGO_ENABLED=0 GOBIN=${toolsBin} go install -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}" github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
      '  3. Install the Temporal CLI from https://docs.temporal.io/cli (release archive or package manager).',
    ].join('\n'),
  );
}

if (process.argv[2] === '--print-path') {
  console.log(ensureTemporalCli());
  process.exit(0);
}
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const cli = ensureTemporalCli();
    const child = spawn(cli, process.argv.slice(2), { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 1));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
