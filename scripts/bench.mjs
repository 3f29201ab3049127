// `npm run bench:<name>`: runs one benchmark against real servers. `qb`: qbXML requests per QBWC round trip.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[bench] ${m}`);

const benches = {
  qb: 'bench/qbwcRoundTrips.ts',
};

const [name, ...rest] = process.argv.slice(2);
if (name === 'dataverse') {
  console.error('bench:dataverse: not yet implemented');
  process.exit(2);
}
const entry = name ? benches[name] : undefined;
if (!entry) {
  console.error(`usage: node scripts/bench.mjs <${[...Object.keys(benches), 'dataverse'].join('|')}> [options]`);
  process.exit(2);
}

ensureNodeModules(log);
process.env.TEMPORAL_CLI = ensureTemporalCli(log);
const child = spawn(process.execPath, ['--import', 'tsx', entry, ...rest], {
  cwd: root,
  stdio: 'inherit',
  // The simulators log every QBWC run at info; the benchmark prints its own table.
  env: { LOG_LEVEL: 'warn', ...process.env },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
