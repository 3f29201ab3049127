// Finds the Temporal CLI (which holds `temporal server start-dev` and the Web UI), building it from Go modules
// once when it is not installed. Nothing is downloaded at run time except Go modules through the Go proxy.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installGoTools, onPath, toolsBin } from './go-tools.mjs';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const builtCli = join(toolsBin, 'temporal');

function buildFromGoModules(log) {
  const built = installGoTools({
    what: `the Temporal CLI v${TEMPORAL_CLI_VERSION}`,
    packages: [`github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
    binaries: ['temporal'],
    ldflags: `-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
    log,
  });
  return built ? builtCli : undefined;
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
