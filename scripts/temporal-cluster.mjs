// A real Temporal cluster on the local PostgreSQL: each service in its own process (two frontends and two history
// services, so that one of each can be lost, plus matching and the system worker), behind a small TCP balancer that is
// the cluster's one address, as a load balancer is in production. Used by `npm run cluster` and the cluster tests.
//
// The processes run the server's built-in configuration template with deploy/temporal/server.env, the file
// docker-compose.yml gives its `temporal` service; only host-specific values (ports, addresses, certificates) are
// added here. The schema and namespace steps are deploy/temporal's scripts, also shared with docker-compose.yml.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemporalServer } from './temporal-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const deployDir = join(root, 'deploy', 'temporal');

/** `KEY=VALUE` lines of an env file (no quoting: the shared files hold plain values). */
export function readEnvFile(path) {
  const values = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/** The shared server settings (deploy/temporal/server.env). */
export function sharedServerSettings() {
  return readEnvFile(join(deployDir, 'server.env'));
}

export const DEFAULT_DATABASE = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  password: process.env.PGPASSWORD ?? '',
};

/** True when PostgreSQL accepts TCP connections at `database`'s address. */
export function postgresReachable(database = DEFAULT_DATABASE, timeoutMs = 2000) {
  return new Promise((resolveReachable) => {
    const socket = connect({ host: database.host, port: database.port });
    const done = (ok) => {
      socket.destroy();
      resolveReachable(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Every process of the cluster with its ports, from `basePort` up: the balancer takes `basePort` itself (the address
 * clients use); each process gets a gRPC and a membership port, frontends an HTTP port, each a metrics port.
 */
export function clusterLayout({ basePort, frontends = 2, histories = 2 }) {
  let next = basePort + 1;
  const take = () => next++;
  const processes = [];
  const add = (service, index) =>
    processes.push({
      name: `${service}-${index}`,
      service,
      grpcPort: take(),
      membershipPort: take(),
      ...(service === 'frontend' ? { httpPort: take() } : {}),
      metricsPort: take(),
    });
  for (let i = 1; i <= frontends; i++) add('frontend', i);
  for (let i = 1; i <= histories; i++) add('history', i);
  add('matching', 1);
  add('worker', 1);
  // Temporal records membership ports in a PostgreSQL smallint column.
  const highest = Math.max(...processes.map((p) => p.membershipPort));
  if (highest > 32767) throw new Error(`basePort ${basePort} is too high: membership ports must stay below 32768`);
  return { address: `127.0.0.1:${basePort}`, basePort, processes };
}

const SERVICE_PORT_VARIABLES = {
  frontend: { grpc: 'FRONTEND_GRPC_PORT', membership: 'FRONTEND_MEMBERSHIP_PORT', http: 'FRONTEND_HTTP_PORT' },
  history: { grpc: 'HISTORY_GRPC_PORT', membership: 'HISTORY_MEMBERSHIP_PORT' },
  matching: { grpc: 'MATCHING_GRPC_PORT', membership: 'MATCHING_MEMBERSHIP_PORT' },
  worker: { grpc: 'WORKER_GRPC_PORT', membership: 'WORKER_MEMBERSHIP_PORT' },
};

/**
 * The environment of one server process: the shared settings, this host's database and paths, this process's ports and,
 * with `tls`, mutual TLS on the frontend (clients must present a certificate signed by `tls.caFile`) and between the
 * services (which present `tls.serverCertFile`, valid for both roles).
 */
export function serverEnvironment({ process: p, layout, database, tls }) {
  const shared = sharedServerSettings();
  const ports = SERVICE_PORT_VARIABLES[p.service];
  const firstFrontend = layout.processes.find((q) => q.service === 'frontend');
  return {
    ...shared,
    POSTGRES_SEEDS: database.host,
    DB_PORT: String(database.port),
    POSTGRES_USER: database.user,
    POSTGRES_PWD: database.password,
    DBNAME: database.name,
    VISIBILITY_DBNAME: database.visibilityName,
    DYNAMIC_CONFIG_FILE_PATH: join(deployDir, 'dynamicconfig', 'production.yaml'),
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    CLUSTER_RPC_ADDRESS: layout.address,
    CLUSTER_HTTP_ADDRESS: `127.0.0.1:${firstFrontend.httpPort}`,
    [ports.grpc]: String(p.grpcPort),
    [ports.membership]: String(p.membershipPort),
    ...(ports.http ? { [ports.http]: String(p.httpPort) } : {}),
    PROMETHEUS_ENDPOINT: `127.0.0.1:${p.metricsPort}`,
    ...(tls
      ? {
          TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
          TEMPORAL_TLS_FRONTEND_CERT: tls.serverCertFile,
          TEMPORAL_TLS_FRONTEND_KEY: tls.serverKeyFile,
          TEMPORAL_TLS_CLIENT1_CA_CERT: tls.caFile,
          TEMPORAL_TLS_CLIENT2_CA_CERT: tls.caFile,
          TEMPORAL_TLS_SERVER_CERT: tls.serverCertFile,
          TEMPORAL_TLS_SERVER_KEY: tls.serverKeyFile,
          TEMPORAL_TLS_SERVER_CA_CERT: tls.caFile,
          TEMPORAL_TLS_FRONTEND_SERVER_NAME: tls.serverName,
          TEMPORAL_TLS_INTERNODE_SERVER_NAME: tls.serverName,
          // Certificates replaced on disk are picked up without a restart.
          TEMPORAL_TLS_REFRESH_INTERVAL: '1m',
        }
      : {}),
  };
}

/** The `temporal` CLI's environment for this cluster (the CLI reads its connection flags from these variables). */
export function cliEnvironment({ address, namespace = 'default', tls }) {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    ...(tls
      ? {
          TEMPORAL_TLS: 'true',
          TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCertFile,
          TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKeyFile,
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.caFile,
          TEMPORAL_TLS_SERVER_NAME: tls.serverName,
        }
      : {}),
  };
}

/** Creates (once) and migrates both databases with deploy/temporal/setup-schema.sh. */
export function migrateDatabases({ sqlTool, database, log }) {
  const result = spawnSync('sh', [join(deployDir, 'setup-schema.sh')], {
    encoding: 'utf8',
    env: {
      ...process.env,
      TEMPORAL_SQL_TOOL: sqlTool,
      POSTGRES_SEEDS: database.host,
      DB_PORT: String(database.port),
      POSTGRES_USER: database.user,
      POSTGRES_PWD: database.password,
      DBNAME: database.name,
      VISIBILITY_DBNAME: database.visibilityName,
    },
  });
  for (const line of result.stdout.split('\n')) if (line) log(line);
  if (result.status !== 0) {
    throw new Error(`Temporal's schema could not be set up in PostgreSQL:\n${result.stderr.trim().slice(-3000)}`);
  }
}

/** Drops both databases (tests start from nothing); a database that is not there is no error. */
export function dropDatabases({ database, log = () => undefined }) {
  const { sqlTool } = ensureTemporalServer(log);
  for (const name of [database.name, database.visibilityName]) {
    spawnSync(
      sqlTool,
      [
        '--plugin',
        'postgres12',
        '--endpoint',
        database.host,
        '--port',
        String(database.port),
        '--user',
        database.user,
        '--database',
        name,
        'drop-database',
        '--force',
      ],
      { encoding: 'utf8', env: { ...process.env, SQL_PASSWORD: database.password } },
    );
  }
}

/**
 * The cluster's one address: accepts client connections and hands each to the next frontend that accepts it, so a
 * lost frontend costs its clients one reconnect (gRPC reconnects by itself), as behind a production load balancer. It
 * passes bytes through: TLS, when on, runs between the client and the frontend.
 */
export function startFrontendBalancer({ port, frontends }) {
  let turn = 0;
  const sockets = new Set();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const tryBackend = (attempt) => {
      if (attempt >= frontends.length) {
        client.destroy();
        return;
      }
      const target = frontends[turn++ % frontends.length];
      const upstream = connect({ host: '127.0.0.1', port: target });
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        if (connected) upstream.destroy();
        else tryBackend(attempt + 1);
      });
    };
    tryBackend(0);
  });
  return new Promise((resolveListening, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolveListening({
        close: () =>
          new Promise((r) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => r());
          }),
      }),
    );
  });
}

function portFree(port) {
  return new Promise((resolveFree) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveFree(false);
    });
    socket.once('error', () => resolveFree(true));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A command run without blocking this process: the balancer it may be talking through lives here. */
function runCommand(command, args, { env, timeoutMs }) {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, stdout, stderr });
    });
  });
}

/**
 * Migrates the databases, starts every process and the balancer, waits until the cluster serves, and prepares the
 * namespace (retention, search attributes). Returns a handle with the address, per-process `kill`/`start` for fault
 * tests, and `stop`. With `supervise`, a process that exits by itself is started again (a lost process is replaced,
 * as an orchestrator would); processes stopped through the handle are not.
 */
export async function startTemporalCluster({
  dataDir,
  database,
  basePort = 17233,
  frontends = 2,
  histories = 2,
  namespace = 'default',
  tls,
  cli,
  supervise = false,
  log = (m) => console.error(`[cluster] ${m}`),
}) {
  const { server, sqlTool } = ensureTemporalServer(log);
  const layout = clusterLayout({ basePort, frontends, histories });
  const logsDir = join(dataDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const busy = [];
  for (const port of [layout.basePort, ...layout.processes.flatMap((p) => [p.grpcPort, p.membershipPort])]) {
    if (!(await portFree(port))) busy.push(port);
  }
  if (busy.length) {
    throw new Error(`Ports ${busy.join(', ')} are in use: is another Temporal cluster of this project running?`);
  }
  migrateDatabases({ sqlTool, database, log });

  const running = new Map();
  let stopping = false;
  const startProcess = (p) => {
    const logFile = createWriteStream(join(logsDir, `temporal-${p.name}.log`), { flags: 'a' });
    const env = { ...process.env, ...serverEnvironment({ process: p, layout, database, tls }) };
    // The built-in template is used only without a configuration file.
    delete env.TEMPORAL_SERVER_CONFIG_FILE_PATH;
    const child = spawn(server, ['--allow-no-auth', 'start', '--service', p.service], {
      cwd: dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Both into one file, which neither may end: the first to close would end it under the other, whose next line
    // then throws "write after end" in the process that started the cluster (a benchmark crashed so while stopping).
    child.stdout.pipe(logFile, { end: false });
    child.stderr.pipe(logFile, { end: false });
    child.once('close', () => logFile.end());
    const entry = { process: p, child, intended: false };
    running.set(p.name, entry);
    child.on('exit', (code, signal) => {
      if (running.get(p.name) === entry) running.delete(p.name);
      if (stopping || entry.intended) return;
      log(`${p.name} exited (${signal ?? code}); see ${join(logsDir, `temporal-${p.name}.log`)}`);
      if (supervise) setTimeout(() => !stopping && !running.has(p.name) && startProcess(p), 2000);
    });
    return entry;
  };
  const stopProcess = async (name, signal) => {
    const entry = running.get(name);
    if (!entry) return;
    entry.intended = true;
    const exited = new Promise((r) => entry.child.once('exit', r));
    entry.child.kill(signal);
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  for (const p of layout.processes) startProcess(p);
  const balancer = await startFrontendBalancer({
    port: layout.basePort,
    frontends: layout.processes.filter((p) => p.service === 'frontend').map((p) => p.grpcPort),
  });
  const cliEnv = { ...process.env, ...cliEnvironment({ address: layout.address, namespace, tls }) };
  const stop = async () => {
    stopping = true;
    await balancer.close();
    await Promise.all([...running.keys()].map((name) => stopProcess(name, 'SIGTERM')));
  };
  try {
    log(`waiting for the Temporal services (${layout.processes.map((p) => p.name).join(', ')})...`);
    // The namespace script waits for the cluster's health, then creates or updates the namespace.
    const setup = await runCommand('sh', [join(deployDir, 'register-search-attributes.sh')], {
      env: { ...cliEnv, PATH: `${dirname(cli)}${delimiter}${process.env.PATH ?? ''}`, AUDIT_RETENTION: '720h' },
      timeoutMs: 10 * 60_000,
    });
    if (setup.status !== 0) {
      throw new Error(
        `the Temporal cluster did not become ready: ${(setup.stderr || setup.stdout).trim().slice(-3000)}\n` +
          `Logs: ${logsDir}/temporal-*.log`,
      );
    }
    // Frontends cache namespaces and search attributes for a few seconds; wait until the attributes can be used.
    for (let i = 0; ; i++) {
      const listed = await runCommand(
        cli,
        ['workflow', 'list', '--limit', '1', '--query', "SyncConnection = 'cluster-check'"],
        { env: cliEnv, timeoutMs: 60_000 },
      );
      if (listed.status === 0) break;
      if (i > 60) throw new Error(`the search attributes are not usable: ${listed.stderr.trim()}`);
      await sleep(1000);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  log(`Temporal cluster serving at ${layout.address} (namespace ${namespace}, database ${database.name})`);

  return {
    address: layout.address,
    namespace,
    layout,
    logsDir,
    cliEnv,
    /** Names of the processes now running. */
    running: () => [...running.keys()],
    /** Stops one process (SIGKILL by default: a crash); it stays down until `start`. */
    kill: (name, signal = 'SIGKILL') => stopProcess(name, signal),
    start: (name) => {
      const p = layout.processes.find((q) => q.name === name);
      if (!p) throw new Error(`no process ${name}`);
      if (!running.has(name)) startProcess(p);
    },
    stop,
  };
}
