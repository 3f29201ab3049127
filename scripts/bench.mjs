// `npm run bench:<name>`: runs one benchmark against real servers. `qb`: qbXML requests per QBWC round trip.
// `dataverse`: upserts by alternate key against the Dataverse sandbox under scaled-down service-protection limits.
// `npm run bench -- --cluster`: scale-out on a real Temporal cluster on the local PostgreSQL (bench/clusterScale.ts).
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { ensureTemporalServer } from './temporal-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[bench] ${m}`);

const benches = {
  qb: { entry: 'bench/qbwcRoundTrips.ts', temporal: true },
  // No Temporal: the Dataverse client and its governor are measured on their own.
  dataverse: { entry: 'bench/dataverseUpserts.ts', temporal: false },
  // The whole connector through its phases (initial, incremental, idle, webhook, naive): bench/results/latest.json.
  all: { entry: 'bench/syncPhases.ts', temporal: true },
  // N company files at once with one worker and with two, on the production topology: bench/results/cluster.json.
  cluster: { entry: 'bench/clusterScale.ts', temporal: true, cluster: true },
};

const [given, ...args] = process.argv.slice(2);
// `npm run bench -- --cluster` reaches here as `all --cluster`.
const name = given === 'all' && args.includes('--cluster') ? 'cluster' : given;
const rest = args.filter((a) => a !== '--cluster');
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`usage: node scripts/bench.mjs <${Object.keys(benches).join('|')}> [options]`);
  process.exit(2);
}

ensureNodeModules(log);
if (bench.temporal) process.env.TEMPORAL_CLI = ensureTemporalCli(log);
if (bench.cluster) {
  const built = ensureTemporalServer(log);
  process.env.TEMPORAL_SERVER_BIN = built.server;
  process.env.TEMPORAL_SQL_TOOL = built.sqlTool;
}
const child = spawn(process.execPath, ['--import', 'tsx', bench.entry, ...rest], {
  cwd: root,
  stdio: 'inherit',
  // The simulators log every QBWC run at info; the benchmark prints its own table.
  env: { LOG_LEVEL: 'warn', ...process.env },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
