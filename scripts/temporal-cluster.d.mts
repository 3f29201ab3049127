// Types of scripts/temporal-cluster.mjs for the TypeScript tests that drive a cluster (test-cluster/).

export interface ClusterDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  name: string;
  visibilityName: string;
}

/** Certificate files for mutual TLS on the frontend and between the services. */
export interface ClusterTls {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  serverName: string;
  /** For the `temporal` CLI the cluster runs for its namespace steps. */
  clientCertFile: string;
  clientKeyFile: string;
}

export interface ClusterProcess {
  name: string;
  service: 'frontend' | 'history' | 'matching' | 'worker';
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
  metricsPort: number;
}

export interface TemporalCluster {
  address: string;
  namespace: string;
  layout: { address: string; basePort: number; processes: ClusterProcess[] };
  logsDir: string;
  cliEnv: NodeJS.ProcessEnv;
  running(): string[];
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  start(name: string): void;
  stop(): Promise<void>;
}

export const DEFAULT_DATABASE: Omit<ClusterDatabase, 'name' | 'visibilityName'>;
export function postgresReachable(
  database?: Omit<ClusterDatabase, 'name' | 'visibilityName'>,
  timeoutMs?: number,
): Promise<boolean>;
export function dropDatabases(options: { database: ClusterDatabase; log?: (m: string) => void }): void;
export function startTemporalCluster(options: {
  dataDir: string;
  database: ClusterDatabase;
  basePort?: number;
  frontends?: number;
  histories?: number;
  namespace?: string;
  tls?: ClusterTls;
  cli: string;
  supervise?: boolean;
  log?: (m: string) => void;
}): Promise<TemporalCluster>;
export function startFrontendBalancer(options: {
  port: number;
  frontends: number[];
}): Promise<{ close(): Promise<void> }>;
export function serverEnvironment(options: {
  process: ClusterProcess;
  layout: { address: string; basePort: number; processes: ClusterProcess[] };
  database: ClusterDatabase;
  tls?: ClusterTls;
}): Record<string, string>;
