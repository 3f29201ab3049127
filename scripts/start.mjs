// `npm start`: installs what is missing, builds, and runs the whole connector locally — the Temporal dev server
// (persistent, Web UI on 8233), the worker, the gateway, and the sandboxes when no real systems are configured.
// A child that crashes is started again with backoff; only Ctrl-C stops every child; starting again resumes with all
// data intact (.data/).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, ensureNodeModules } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(root, process.env.CONNECTOR_DATA_DIR ?? '.data');
const logsDir = join(dataDir, 'logs');
// A configuration file means real systems, decided exactly as the worker and gateway decide it (src/config/deployment.ts):
// QBSYNC_CONFIG, else <dataDir>/qbsync.yaml. CONNECTOR_CONFIG is its older name; children get the absolute path.
if (!process.env.QBSYNC_CONFIG && process.env.CONNECTOR_CONFIG)
  process.env.QBSYNC_CONFIG = process.env.CONNECTOR_CONFIG;
if (process.env.QBSYNC_CONFIG) process.env.QBSYNC_CONFIG = resolve(process.env.QBSYNC_CONFIG);
const configured = Boolean(process.env.QBSYNC_CONFIG) || existsSync(join(dataDir, 'qbsync.yaml'));
// With a configuration file, its gateway port unless GATEWAY_PORT says otherwise (set once the file is read).
let gatewayPort = Number(process.env.GATEWAY_PORT ?? 8080);
// Another port pair lets a second stack (the Web UI test) run beside a developer's `npm start`.
const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
// Workers and gateways to run: `npm run cluster` runs two of each, as a scaled-out deployment does.
const replicas = Number(process.env.CONNECTOR_REPLICAS ?? 1);
if (!Number.isInteger(replicas) || replicas < 1) throw new Error('CONNECTOR_REPLICAS must be a whole number from 1.');
const replicaNames = (name) =>
  Array.from({ length: replicas }, (_, i) => ({ name: replicas === 1 ? name : `${name}-${i + 1}`, index: i }));
const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
// Name=type, as src/workflows/searchAttributes.ts registers them.
const searchAttributes = [
  'SyncConnection=Keyword',
  'SyncEntity=Keyword',
  'SyncSourceId=Keyword',
  'SyncTargetId=Keyword',
  'SyncOutcome=Keyword',
  'SyncSourceIds=KeywordList',
];
const say = (m) => console.log(`[start] ${m}`);
// What every child needs to find this stack's dev server and accept codec calls from this stack's Web UI.
const stackEnv = {
  CONNECTOR_DATA_DIR: dataDir,
  GATEWAY_PORT: String(gatewayPort),
  ...(process.env.TEMPORAL_PORT ? { TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}` } : {}),
  ...(process.env.TEMPORAL_UI_PORT && !process.env.QBSYNC_UI_ORIGIN
    ? { QBSYNC_UI_ORIGIN: `http://localhost:${uiPort}` }
    : {}),
};
// Every child the stack runs, with the process serving it now (a restart replaces it).
const children = [];
let stopping = false;

// A child that exits while the stack runs (a crash, an OOM kill, kill -9 by an operator or a deploy) is started again,
// after 1 s, doubling each time it falls over again up to 60 s, so a child that cannot start does not spin; a child that
// served for 2 minutes counts as recovered and its next restart waits 1 s again. Only Ctrl-C (or SIGTERM) stops the
// stack.
const RESTART_FIRST_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 60_000;
const RECOVERED_AFTER_MS = 120_000;

function run(name, command, args, { env = {}, onLine } = {}) {
  mkdirSync(logsDir, { recursive: true });
  const logPath = join(logsDir, `${name}.log`);
  const logFile = createWriteStream(logPath, { flags: 'a' });
  const entry = { name, child: undefined, restarts: 0, delayMs: RESTART_FIRST_DELAY_MS, restartTimer: undefined };
  const spawnChild = () => {
    const startedAt = Date.now();
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...stackEnv, SERVICE_NAME: name, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk) => {
        logFile.write(chunk);
        if (onLine) for (const line of chunk.toString().split('\n')) if (line) onLine(line);
      });
    }
    child.on('exit', (code, signal) => {
      if (stopping) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs >= RECOVERED_AFTER_MS) entry.delayMs = RESTART_FIRST_DELAY_MS;
      const delayMs = entry.delayMs;
      entry.delayMs = Math.min(entry.delayMs * 2, RESTART_MAX_DELAY_MS);
      entry.restarts += 1;
      const how = `${name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}) after ${Math.round(ranMs / 1000)} s`;
      say(`${how}; restarting it in ${delayMs / 1000} s (restart ${entry.restarts}); see ${logPath}`);
      logFile.write(`\n[start] ${new Date().toISOString()} ${how}; restarting in ${delayMs / 1000} s\n`);
      entry.restartTimer = setTimeout(() => {
        entry.restartTimer = undefined;
        if (stopping) return;
        spawnChild();
        say(`${name} restarted (pid ${entry.child.pid})`);
      }, delayMs);
    });
  };
  spawnChild();
  children.push(entry);
}

async function waitFor(what, check, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

const portOpen = (port) =>
  new Promise((resolveOpen) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.end();
      resolveOpen(true);
    });
    socket.on('error', () => resolveOpen(false));
  });

async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping...');
  for (const entry of children) clearTimeout(entry.restartTimer);
  const exited = (child) => child.exitCode !== null || child.signalCode !== null;
  for (const { child } of [...children].reverse()) if (!exited(child)) child.kill('SIGTERM');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((r) => {
          if (exited(child)) return r();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.on('exit', () => {
            clearTimeout(timer);
            r();
          });
        }),
    ),
  );
  say('stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/**
 * The configuration file as the processes will read it (validated; no secret resolved here: each process resolves its
 * own). Loaded from the build, like the key helpers below.
 */
async function loadConfiguredDeployment() {
  const { loadDeployment } = await import(pathToFileURL(join(root, 'lib', 'config', 'deployment.js')).href);
  const deployment = loadDeployment({ dataDir, env: { ...process.env, ...stackEnv } });
  if (!process.env.GATEWAY_PORT) {
    gatewayPort = deployment.gateway.port;
    stackEnv.GATEWAY_PORT = String(gatewayPort);
  }
  return {
    temporal: deployment.temporal,
    gateway: deployment.gateway,
    dataverseUrl: deployment.dataverseEnvironmentUrl,
    connections: deployment.connections.map(({ name, schedule }) => ({ name, schedule })),
  };
}

async function main() {
  ensureNodeModules(say);
  const temporal = ensureTemporalCli(say);
  build(say);
  // Read (and validated) before anything starts: an invalid file stops here with every field path it gets wrong.
  const deployment = configured ? await loadConfiguredDeployment() : undefined;
  // The stack's own dev server serves a configuration only when the file points Temporal at it, and the sandbox unless
  // TEMPORAL_ADDRESS names another Temporal (`npm run cluster` names its cluster); otherwise that Temporal is used.
  const ownTemporal = deployment
    ? [`127.0.0.1:${temporalPort}`, `localhost:${temporalPort}`].includes(deployment.temporal.address)
    : !process.env.TEMPORAL_ADDRESS;
  const temporalAddress = ownTemporal
    ? `127.0.0.1:${temporalPort}`
    : (deployment?.temporal.address ?? process.env.TEMPORAL_ADDRESS);
  const namespace = deployment?.temporal.namespace ?? 'default';
  const gatewayPorts = replicaNames('gateway').map(({ index }) => gatewayPort + index);
  for (const port of ownTemporal ? [temporalPort, uiPort, ...gatewayPorts] : gatewayPorts) {
    if (await portOpen(port)) throw new Error(`Port ${port} is already in use: is another \`npm start\` running?`);
  }

  // Payload keys and codec tokens exist before anything writes to Temporal; the dev server's env file points the Web UI
  // at the gateway's codec endpoint without putting the endpoint's token on a command line (`ps` shows those).
  const { ensurePayloadKeyFile } = await import(pathToFileURL(join(root, 'lib', 'codec', 'keyRing.js')).href);
  const { ensureCodecAccess } = await import(
    pathToFileURL(join(root, 'lib', 'gateway', 'codec', 'codecAccess.js')).href
  );
  ensurePayloadKeyFile(dataDir);
  const codecAccess = ensureCodecAccess(dataDir, `http://127.0.0.1:${gatewayPort}`);

  if (ownTemporal) {
    mkdirSync(join(dataDir, 'temporal'), { recursive: true });
    const devArgs = [
      'server',
      'start-dev',
      '--env-file',
      codecAccess.temporalEnvFile,
      '--env',
      'default',
      // The dev server creates the configured namespace next to `default`.
      ...(namespace === 'default' ? [] : ['--namespace', namespace]),
      '--db-filename',
      join(dataDir, 'temporal', 'dev.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(temporalPort),
      '--ui-port',
      String(uiPort),
      '--log-level',
      'warn',
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecution=true',
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
      ...searchAttributes.flatMap((registration) => ['--search-attribute', registration]),
    ];
    run('temporal', temporal, devArgs);
    await waitFor('the Temporal dev server', () => portOpen(temporalPort));
    await waitFor('the Temporal dev server to be healthy', async () => {
      const r = spawnSync(temporal, ['operator', 'cluster', 'health', '--address', `127.0.0.1:${temporalPort}`], {
        encoding: 'utf8',
      });
      return r.status === 0;
    });
    // Audit trails live in workflow histories: keep closed ones for 30 days, not the dev server's 24 hours.
    const retention = spawnSync(
      temporal,
      [
        'operator',
        'namespace',
        'update',
        '--namespace',
        namespace,
        '--retention',
        '720h',
        '--address',
        `127.0.0.1:${temporalPort}`,
      ],
      { encoding: 'utf8' },
    );
    if (retention.status !== 0) say(`could not raise retention: ${retention.stderr}`);
  } else {
    say(`using the ${deployment ? 'configured ' : ''}Temporal at ${temporalAddress} (namespace ${namespace})`);
  }

  const sandbox = !deployment;
  if (deployment) {
    // Real systems are not touched at start-up: creating columns and keys is the operator's decision, made once.
    say(
      `configuration ${process.env.QBSYNC_CONFIG ?? join(dataDir, 'qbsync.yaml')}: no sandbox, no Web Connector ` +
        `simulator. Run \`npx qbsync provision\` once against ${deployment.dataverseUrl} before the first sync.`,
    );
  }
  if (sandbox) {
    let ready = false;
    run('sandbox', process.execPath, ['lib/sandbox/main.js'], {
      onLine: (line) => {
        if (line.includes('SANDBOX READY')) ready = true;
      },
    });
    await waitFor('the sandboxes', () => ready);
    // The connector's columns and keys must exist before the first sync writes by key (idempotent: a restart finds
    // them there).
    const provisioned = spawnSync(process.execPath, ['lib/cli/main.js', 'provision'], {
      cwd: root,
      env: { ...process.env, ...stackEnv },
      encoding: 'utf8',
    });
    if (provisioned.status !== 0) throw new Error(`provisioning the Dataverse sandbox failed: ${provisioned.stderr}`);
  }
  // Replicas beside the first get their own metrics ports (two processes cannot share one).
  for (const { name, index } of replicaNames('worker')) {
    run(name, process.execPath, ['lib/worker.js'], {
      env:
        index === 0
          ? {}
          : {
              WORKER_METRICS_PORT: String(Number(process.env.WORKER_METRICS_PORT ?? 9464) + 2 * index),
              WORKER_SDK_METRICS_PORT: String(Number(process.env.WORKER_SDK_METRICS_PORT ?? 9465) + 2 * index),
            },
    });
  }
  for (const { name, index } of replicaNames('gateway')) {
    run(name, process.execPath, ['lib/gateway/main.js'], { env: { GATEWAY_PORT: String(gatewayPorts[index]) } });
  }
  const boundHost = deployment?.gateway.host ?? '127.0.0.1';
  const gatewayHealthHost = ['0.0.0.0', '::', '[::]'].includes(boundHost) ? '127.0.0.1' : boundHost;
  for (const port of gatewayPorts) {
    await waitFor(`the gateway on port ${port}`, async () => {
      try {
        return (await fetch(`http://${gatewayHealthHost}:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    });
  }

  let scheduleNames;
  if (deployment) {
    // The configured interval and paused state per connection, through `qbsync schedule create` (encrypted input,
    // the configured namespace and task queue); an existing schedule is left as the operator changed it.
    const cli = (...args) =>
      spawnSync(process.execPath, ['lib/cli/main.js', ...args], {
        cwd: root,
        env: { ...process.env, ...stackEnv },
        encoding: 'utf8',
      });
    for (const { name, schedule } of deployment.connections) {
      const created = cli('schedule', 'create', '-c', name);
      if (created.status !== 0) say(`could not create schedule poll-${name}: ${created.stderr.trim()}`);
      else if (!schedule.paused) cli('schedule', 'trigger', '-c', name);
    }
    scheduleNames = deployment.connections.map(
      ({ name, schedule }) =>
        `poll-${name} (every ${schedule.every}${schedule.paused ? ', paused' : ', triggered now'})`,
    );
  } else {
    // One poll schedule per connection, hourly with overlap Skip; created once (a restart keeps the operator's changes)
    // and triggered now so the first cycle does not wait an hour.
    const connections = JSON.parse(readFileSync(join(dataDir, 'connections.json'), 'utf8')).connections;
    for (const { name } of connections) {
      const address = ['--address', temporalAddress];
      const exists =
        spawnSync(temporal, ['schedule', 'describe', '--schedule-id', `poll-${name}`, ...address]).status === 0;
      if (!exists) {
        const created = spawnSync(
          temporal,
          [
            'schedule',
            'create',
            '--schedule-id',
            `poll-${name}`,
            '--workflow-id',
            `poll/${name}`,
            '--type',
            'pollCycle',
            '--task-queue',
            'qb-d365-sync',
            '--input',
            JSON.stringify({ connection: name }),
            '--interval',
            '1h',
            '--overlap-policy',
            'Skip',
            ...address,
          ],
          { encoding: 'utf8' },
        );
        if (created.status !== 0) say(`could not create schedule poll-${name}: ${created.stderr}`);
      }
      spawnSync(temporal, ['schedule', 'trigger', '--schedule-id', `poll-${name}`, ...address]);
    }
    scheduleNames = connections.map((c) => `poll-${c.name} (hourly, triggered now)`);
  }

  const lines = [
    '',
    'QuickBooks Desktop ⇄ Dynamics 365 Sales connector is running.',
    `  Temporal gRPC        ${temporalAddress}${ownTemporal ? '' : deployment ? ' (configured)' : ''}`,
    ...(ownTemporal ? [`  Temporal Web UI      http://localhost:${uiPort}`] : []),
    `  Poll schedules       ${scheduleNames.join(', ')} (qbsync schedule show -c <connection>)`,
    ...gatewayPorts.map(
      (port, i) =>
        `  Gateway${replicas === 1 ? ' ' : `-${i + 1}`}            http://127.0.0.1:${port}  (QBWC: /qbwc, WSDL: /qbwc?wsdl, /healthz, /metrics)`,
    ),
    `  Codec endpoint       http://127.0.0.1:${gatewayPort}/codec  (Bearer token in ${codecAccess.tokenPath}; the Web UI is wired to it)`,
  ];
  if (deployment) {
    lines.push(`  Configuration        ${process.env.QBSYNC_CONFIG ?? join(dataDir, 'qbsync.yaml')}`);
    lines.push(`  Dataverse            ${deployment.dataverseUrl}  (run \`npx qbsync provision\` once)`);
    lines.push(`  Web Connector        add each connection's .QWC: npx qbsync qwc -c <connection> -o <file>.qwc`);
  }
  if (sandbox) {
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'sandbox', 'endpoints.json'), 'utf8'));
    lines.push(`  QuickBooks sandbox   ${endpoints.quickbooks.url}/qbxml?companyFile=<east|west>`);
    lines.push(`  Dataverse sandbox    ${endpoints.dataverse.webApiUrl}`);
    lines.push(`  Identity provider    ${endpoints.dataverse.authority}`);
    if (process.env.SANDBOX_QBWC !== 'off') {
      const { SecretStore, resolveSecret } = await import(
        pathToFileURL(join(root, 'lib', 'config', 'secrets.js')).href
      );
      const secretStore = () => SecretStore.open(dataDir);
      for (const [n, file] of endpoints.quickbooks.companyFiles.entries()) {
        // With several gateways, the company files are spread across them: each Web Connector calls the gateway its
        // .QWC names, so a copy of the file names the gateway this one uses.
        const port = gatewayPorts[n % gatewayPorts.length];
        let qwcFile = file.qwcFile;
        if (port !== gatewayPort) {
          qwcFile = join(dataDir, 'sandbox', `${file.connection}-gateway-${port}.qwc`);
          const qwc = readFileSync(file.qwcFile, 'utf8');
          writeFileSync(qwcFile, qwc.replace(/(<AppURL>https?:\/\/[^:</]+):\d+/, `$1:${port}`));
        }
        run(
          `webconnector-${file.connection}`,
          process.execPath,
          ['lib/sandbox/webConnector/main.js', qwcFile, file.qbxmlUrl],
          {
            env: {
              QBWC_PASSWORD: resolveSecret(file.qbwcPasswordRef, secretStore),
              QBWC_COMPANY_FILE: file.companyFilePath,
            },
          },
        );
      }
      lines.push('  Web Connector sim.   one per company file, on the .QWC timer (SANDBOX_QBWC=off to leave it out)');
    }
    lines.push(`  Endpoints and credential references: ${join(dataDir, 'sandbox', 'endpoints.json')}`);
    lines.push(`  Credentials (encrypted): ${join(dataDir, 'secrets.json')}  (names: npx qbsync secrets list)`);
  }
  lines.push(`  Logs: ${logsDir}/<process>.log`, 'Press Ctrl-C to stop everything.', '');
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(`[start] ${error.message}`);
  void stopAll(1);
});
