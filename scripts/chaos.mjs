// `npm run chaos -- --faults N --seed S`: the connector under a seeded schedule of faults (bench/chaos.ts), against
// real processes: the Temporal dev server, the worker and the gateway are its children; results in bench/results/chaos.json.
// `npm run chaos -- --cluster ...`: on a Temporal cluster on the local PostgreSQL (the server built once into .tools),
// two workers and two gateways; results in bench/results/chaos-cluster.json.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { DEFAULT_DATABASE, postgresReachable } from './temporal-cluster.mjs';
import { ensureTemporalServer } from './temporal-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[chaos] ${m}`);

ensureNodeModules(log);
process.env.TEMPORAL_CLI = ensureTemporalCli(log);
if (process.argv.includes('--cluster')) {
  if (!(await postgresReachable(DEFAULT_DATABASE))) {
    console.error(
      `[chaos] --cluster needs PostgreSQL at ${DEFAULT_DATABASE.host}:${DEFAULT_DATABASE.port} (docs/deployment.md §3a).`,
    );
    process.exit(1);
  }
  const built = ensureTemporalServer(log);
  process.env.TEMPORAL_SERVER_BIN = built.server;
  process.env.TEMPORAL_SQL_TOOL = built.sqlTool;
}
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/chaos.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { LOG_LEVEL: 'warn', ...process.env },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
