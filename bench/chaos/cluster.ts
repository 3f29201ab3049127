import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import type { ClusterDatabase, ClusterProcess, TemporalCluster } from '../../scripts/temporal-cluster.mjs';

/**
 * The Temporal of `npm run chaos -- --cluster`: the production topology of `npm run cluster` (scripts/temporal-cluster.mjs)
 * on fresh databases of the local PostgreSQL, without TLS (the chaos run is about faults; the cluster tier's other files
 * cover mutual TLS). Faults stop and start its service processes one by one; the balancer that is the cluster's one
 * address lives in the chaos run's own process, so nothing here may block the event loop (no spawnSync).
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolveOpen) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.end();
      resolveOpen(true);
    });
    socket.on('error', () => resolveOpen(false));
  });

interface ChaosClusterOptions {
  dataDir: string;
  /** The cluster's address port; its processes take the ports just above it. */
  basePort: number;
  /** The persistence database (visibility: `<name>_visibility`), dropped before the run. */
  databaseName: string;
  temporalCli: string;
  log: (message: string) => void;
}

type ClusterService = ClusterProcess['service'];

export class ChaosCluster {
  /** Starts of each service process, the first included. */
  readonly starts: Record<string, number> = {};

  private constructor(
    private readonly cluster: TemporalCluster,
    private readonly database: ClusterDatabase,
    private readonly dropDatabases: (options: { database: ClusterDatabase }) => void,
    private readonly temporalCli: string,
  ) {
    for (const p of cluster.layout.processes) this.starts[p.name] = 1;
  }

  static async start(options: ChaosClusterOptions): Promise<ChaosCluster> {
    const clusterModule = await import('../../scripts/temporal-cluster.mjs');
    const database: ClusterDatabase = {
      ...clusterModule.DEFAULT_DATABASE,
      name: options.databaseName,
      visibilityName: `${options.databaseName}_visibility`,
    };
    // A run killed before its cleanup left its databases: start from nothing.
    clusterModule.dropDatabases({ database });
    const cluster = await clusterModule.startTemporalCluster({
      dataDir: options.dataDir,
      database,
      basePort: options.basePort,
      cli: options.temporalCli,
      log: options.log,
    });
    return new ChaosCluster(cluster, database, clusterModule.dropDatabases, options.temporalCli);
  }

  get address(): string {
    return this.cluster.address;
  }

  get logsDir(): string {
    return this.cluster.logsDir;
  }

  /** The process names of one service, e.g. history-1 and history-2. */
  processesOf(service: ClusterService): string[] {
    return this.cluster.layout.processes.filter((p) => p.service === service).map((p) => p.name);
  }

  /** kill -9 (or `signal`) of one process; it stays down until `start`. */
  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.cluster.kill(name, signal);
  }

  /**
   * Starts a process again and waits until it listens on its gRPC port, so that a fault drawn next on the same service
   * finds the survivor carrying on, not both down at once.
   */
  async start(name: string, readyTimeoutMs = 120_000): Promise<void> {
    const p = this.cluster.layout.processes.find((q) => q.name === name);
    if (!p) throw new Error(`no cluster process ${name}`);
    if (!this.cluster.running().includes(name)) {
      this.cluster.start(name);
      this.starts[name] = (this.starts[name] ?? 0) + 1;
    }
    const until = Date.now() + readyTimeoutMs;
    while (!(await portOpen(p.grpcPort))) {
      if (Date.now() > until) throw new Error(`${name} did not listen on ${p.grpcPort} within ${readyTimeoutMs} ms`);
      await sleep(250);
    }
  }

  /** Every service stopped (SIGTERM, as a maintenance restart) and started again; resolves once the cluster serves. */
  async restartAll(pauseMs: number): Promise<void> {
    const names = this.cluster.layout.processes.map((p) => p.name);
    await Promise.all(names.map((name) => this.cluster.kill(name, 'SIGTERM')));
    await sleep(pauseMs);
    await this.ensureAllRunning();
  }

  /** Starts whatever is down and waits until the cluster answers its health check. */
  async ensureAllRunning(timeoutMs = 180_000): Promise<void> {
    await Promise.all(this.cluster.layout.processes.map((p) => this.start(p.name, timeoutMs)));
    const until = Date.now() + timeoutMs;
    while (!(await this.healthy())) {
      if (Date.now() > until) throw new Error(`the Temporal cluster did not serve within ${timeoutMs} ms`);
      await sleep(1000);
    }
  }

  private healthy(): Promise<boolean> {
    return new Promise((resolveHealthy) => {
      execFile(
        this.temporalCli,
        ['operator', 'cluster', 'health'],
        { env: this.cluster.cliEnv, timeout: 30_000 },
        (error) => resolveHealthy(error === null),
      );
    });
  }

  /** Stops every process; drops the databases unless they are kept for a post-mortem. */
  async close(keepDatabases: boolean): Promise<void> {
    await this.cluster.stop();
    if (!keepDatabases) this.dropDatabases({ database: this.database });
  }
}

/**
 * The gateways' one address, as a load balancer in front of a scaled-out gateway: Dataverse's webhooks go there and
 * reach whichever gateway accepts the connection (the cluster's frontend balancer, which passes bytes through).
 */
export async function startGatewayBalancer(port: number, gatewayPorts: number[]): Promise<{ close(): Promise<void> }> {
  const clusterModule = await import('../../scripts/temporal-cluster.mjs');
  return clusterModule.startFrontendBalancer({ port, frontends: gatewayPorts });
}
