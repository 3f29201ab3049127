// `npm run cluster`: the production topology on this machine. A real Temporal cluster on the local PostgreSQL (two
// frontends and two history services behind one address, matching, the system worker; scripts/temporal-cluster.mjs),
// then the connector exactly as `npm start` runs it, but against that cluster and with two workers and two gateways
// (the Web Connector simulators spread across both). Ctrl-C stops everything; starting again resumes: the workflows
// live in PostgreSQL, the sandboxes' data in .data/cluster.
//
//   npm run cluster                     PostgreSQL at 127.0.0.1:5432 as user postgres (PGHOST, PGPORT, PGUSER, PGPASSWORD)
//   TEMPORAL_CLUSTER_PORT=17233         the cluster's address (processes take the ports just above it)
//   TEMPORAL_CLUSTER_DB=temporal_qbsync the persistence database (visibility: <name>_visibility)
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { DEFAULT_DATABASE, postgresReachable, startTemporalCluster } from './temporal-cluster.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(root, process.env.CONNECTOR_DATA_DIR ?? join('.data', 'cluster'));
const say = (m) => console.log(`[cluster] ${m}`);
const databaseName = process.env.TEMPORAL_CLUSTER_DB ?? 'temporal_qbsync';
const database = { ...DEFAULT_DATABASE, name: databaseName, visibilityName: `${databaseName}_visibility` };

let cluster;
let connector;
let stopping = false;

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  if (connector && connector.exitCode === null) {
    await new Promise((r) => {
      connector.once('exit', r);
      connector.kill('SIGTERM');
    });
  }
  if (cluster) {
    say('stopping the Temporal cluster...');
    await cluster.stop();
  }
  say('stopped.');
  process.exit(code);
}
// Ctrl-C reaches the whole process group: `npm start`'s runner stops its children itself, then the cluster stops.
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function main() {
  if (!(await postgresReachable(database))) {
    throw new Error(
      `PostgreSQL is not reachable at ${database.host}:${database.port}. Start it ` +
        '(`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` on Debian) or set PGHOST/PGPORT.',
    );
  }
  ensureNodeModules(say);
  const cli = ensureTemporalCli(say);
  mkdirSync(dataDir, { recursive: true });
  cluster = await startTemporalCluster({
    dataDir,
    database,
    basePort: Number(process.env.TEMPORAL_CLUSTER_PORT ?? 17233),
    cli,
    // A process that dies is started again, as an orchestrator would; the other frontend or history carries on.
    supervise: true,
    log: say,
  });
  connector = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      CONNECTOR_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: cluster.namespace,
      CONNECTOR_REPLICAS: process.env.CONNECTOR_REPLICAS ?? '2',
    },
  });
  connector.on('exit', (code) => {
    if (!stopping) {
      say(`the connector stopped (${code}); stopping the cluster.`);
      void stopAll(code ?? 1);
    }
  });
  const ports = cluster.layout.processes.map((p) => `${p.name} :${p.grpcPort}`).join(', ');
  console.log(
    [
      '',
      `Temporal cluster      ${cluster.address} (balancer over the frontends) on PostgreSQL ${database.host}:${database.port}`,
      `  processes           ${ports}`,
      `  databases           ${database.name}, ${database.visibilityName}`,
      `  logs                ${cluster.logsDir}/temporal-*.log`,
      `  Web UI              ${cli} server start-dev serves one for its own server only; for this cluster see`,
      '                      docs/deployment.md ("A local cluster"); the CLI works as is:',
      `                      TEMPORAL_ADDRESS=${cluster.address} ${cli} workflow list`,
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  console.error(`[cluster] ${error.message}`);
  void stopAll(1);
});
