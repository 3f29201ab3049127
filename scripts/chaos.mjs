// `npm run chaos -- --faults N --seed S`: the connector under a seeded schedule of faults (bench/chaos.ts), against
// real processes: the Temporal dev server, the worker and the gateway are its children; results in bench/results/chaos.json.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[chaos] ${m}`);

ensureNodeModules(log);
process.env.TEMPORAL_CLI = ensureTemporalCli(log);
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/chaos.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { LOG_LEVEL: 'warn', ...process.env },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
