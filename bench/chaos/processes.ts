import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { searchAttributeRegistrations } from '../../src/workflows/searchAttributes';

/**
 * The processes the chaos run kills: the Temporal dev server (on a database file, so a restart keeps every
 * workflow), the worker and the gateway, each started the way `npm start` starts them but from source (tsx), so the
 * run needs no build. Each writes its output to `<logsDir>/<name>.log`, appended across restarts.
 */

const root = resolve(__dirname, '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolveOpen) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.end();
      resolveOpen(true);
    });
    socket.on('error', () => resolveOpen(false));
  });

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Resolves true once the process serves (a port answers, a line was logged). */
  ready: (process: ManagedProcess) => Promise<boolean>;
}

/** One supervised child: started, killed with SIGKILL or stopped with SIGTERM, started again. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;
  private output = '';
  startedAt = 0;
  starts = 0;

  constructor(
    private readonly spec: ProcessSpec,
    logsDir: string,
  ) {
    mkdirSync(logsDir, { recursive: true });
    this.log = createWriteStream(join(logsDir, `${spec.name}.log`), { flags: 'a' });
  }

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Output since the last start (for readiness lines). */
  get recentOutput(): string {
    return this.output;
  }

  async start(readyTimeoutMs = 180_000): Promise<void> {
    this.output = '';
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: root,
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts += 1;
    this.log.write(`\n==== ${new Date().toISOString()} start #${this.starts} (pid ${child.pid ?? '?'})\n`);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.log.write(chunk);
        if (this.output.length < 200_000) this.output += chunk.toString();
      });
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    await waitFor(
      `${this.spec.name} to serve`,
      async () => {
        if (gone) throw new Error(`${this.spec.name} exited while starting; see its log`);
        return this.spec.ready(this);
      },
      readyTimeoutMs,
    );
    this.startedAt = Date.now();
  }

  /** kill -9: no shutdown, no flushing, as an OOM kill or a pulled plug. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.log.write(`\n==== ${new Date().toISOString()} ${signal}\n`);
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  gateway: number;
}

const SEARCH_ATTRIBUTES = Object.entries(searchAttributeRegistrations).map(([name, type]) => `${name}=${type}`);

/** The dev server exactly as `npm start` runs it, on its own ports and database file. */
export function temporalDevServer(temporalCli: string, dataDir: string, ports: StackPorts): ProcessSpec {
  const address = `127.0.0.1:${ports.temporal}`;
  mkdirSync(join(dataDir, 'temporal'), { recursive: true });
  return {
    name: 'temporal',
    command: temporalCli,
    args: [
      'server',
      'start-dev',
      '--db-filename',
      join(dataDir, 'temporal', 'dev.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(ports.temporal),
      '--ui-port',
      String(ports.temporalUi),
      '--headless',
      '--log-level',
      'warn',
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecution=true',
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
      ...SEARCH_ATTRIBUTES.flatMap((registration) => ['--search-attribute', registration]),
    ],
    env: process.env,
    ready: async () =>
      (await portOpen(ports.temporal)) &&
      spawnSync(temporalCli, ['operator', 'cluster', 'health', '--address', address], { encoding: 'utf8' }).status ===
        0,
  };
}

/** Environment every connector process of the run gets: its data dir, its dev server, its gateway port. */
export function connectorEnv(dataDir: string, ports: StackPorts, name: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CONNECTOR_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    GATEWAY_PORT: String(ports.gateway),
    SERVICE_NAME: name,
    // Info, so the readiness lines are logged; the logs are files.
    LOG_LEVEL: 'info',
    // Metrics ports off: several stacks share the machine.
    WORKER_METRICS_PORT: '0',
    WORKER_SDK_METRICS_PORT: '0',
  };
}

/**
 * A worker running the bundle at `workflowBundlePath` (written once per run by `writeWorkflowBundle`: the run restarts
 * the worker hundreds of times); `name` tells replicas apart (`npm run chaos -- --cluster` runs two on one task queue).
 */
export function connectorWorker(
  dataDir: string,
  ports: StackPorts,
  workflowBundlePath: string,
  name = 'worker',
): ProcessSpec {
  return {
    name,
    command: process.execPath,
    args: ['--import', 'tsx', 'src/worker.ts'],
    env: { ...connectorEnv(dataDir, ports, name), WORKFLOW_BUNDLE_PATH: workflowBundlePath },
    ready: (p) => Promise.resolve(p.recentOutput.includes('worker started')),
  };
}

/**
 * A gateway on `port` (by default the stack's gateway port); `name` tells replicas apart when several gateways serve
 * behind one address (`npm run chaos -- --cluster`).
 */
export function connectorGateway(
  dataDir: string,
  ports: StackPorts,
  name = 'gateway',
  port = ports.gateway,
): ProcessSpec {
  return {
    name,
    command: process.execPath,
    args: ['--import', 'tsx', 'src/gateway/main.ts'],
    env: { ...connectorEnv(dataDir, ports, name), GATEWAY_PORT: String(port) },
    ready: async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    },
  };
}
