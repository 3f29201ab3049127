import { Client, type Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConnectorDataConverter } from '../codec/dataConverter';
import { connectionsFilePath } from '../config/connections';
import {
  hasConfigFile,
  loadDeployment,
  temporalTargetFromEnvironment,
  type ConnectionSchedule,
  type Deployment,
} from '../config/deployment';
import { runtime } from '../config/runtime';
import { connectTemporalClient, type TemporalTarget } from '../temporal/connect';

export type { ConnectionSchedule } from '../config/deployment';

/** What the operator commands need from their surroundings; tests pass a connected client and capture the output. */
export interface OperatorDeps {
  /** A connected client (tests); otherwise one is connected to `address`. */
  client?: Client;
  address?: string;
  namespace?: string;
  /** TLS and API key of the configured Temporal, resolved when a command first connects. */
  temporalSecurity?: () => Pick<TemporalTarget, 'tls' | 'apiKey'>;
  taskQueue?: string;
  /** Must match the worker's: inputs, results and schedule arguments are encrypted with it. */
  dataConverter?: DataConverter;
  /** Connections known locally; a name outside them is refused before Temporal is asked. Undefined: not checked. */
  knownConnections?: readonly string[];
  out: (text: string) => void;
  err: (line: string) => void;
  now?: () => Date;
}

/** A refusal the operator can act on: printed as is, without a stack. */
export class OperatorError extends Error {
  override readonly name = 'OperatorError';
}

const DEFAULT_ADDRESS = '127.0.0.1:7233';

function temporalAddress(deps: OperatorDeps): string {
  return deps.address ?? runtime.temporalAddress;
}

function temporalNamespace(deps: OperatorDeps): string {
  return deps.namespace ?? runtime.namespace;
}

/** Where the commands reach Temporal: the address and namespace above, with the deployment's TLS and API key. */
function temporalTarget(deps: OperatorDeps): TemporalTarget {
  const security = deps.temporalSecurity?.() ?? {};
  return {
    address: temporalAddress(deps),
    namespace: temporalNamespace(deps),
    ...(security.tls ? { tls: security.tls } : {}),
    ...(security.apiKey !== undefined ? { apiKey: security.apiKey } : {}),
  };
}

/** A connection for a command, or an `OperatorError` that says why there is none and what to do. */
async function connectOperator(deps: OperatorDeps): Promise<Connection> {
  const target = temporalTarget(deps);
  try {
    return await connectTemporalClient(target, { connectTimeout: '5 seconds' });
  } catch (error) {
    const hint =
      target.tls || target.apiKey !== undefined
        ? 'Check temporal.tls and temporal.apiKey in the configuration file (or the TEMPORAL_TLS_* variables).'
        : 'Start it with `npm start`, or point TEMPORAL_ADDRESS at your Temporal server.';
    throw new OperatorError(`${error instanceof Error ? error.message : String(error)}. ${hint}`);
  }
}

/** Runs `work` with a client, connecting (and closing) one unless the caller brought its own. */
export async function withTemporal<T>(deps: OperatorDeps, work: (client: Client) => Promise<T>): Promise<T> {
  if (deps.client) return work(deps.client);
  const connection = await connectOperator(deps);
  try {
    const client = new Client({
      connection,
      namespace: temporalNamespace(deps),
      ...(deps.dataConverter ? { dataConverter: deps.dataConverter } : {}),
    });
    return await work(client);
  } finally {
    await connection.close();
  }
}

export function requireKnownConnection(deps: OperatorDeps, connection: string | undefined): void {
  if (connection === undefined || !deps.knownConnections) return;
  if (!deps.knownConnections.includes(connection)) {
    throw new OperatorError(
      `no connection named "${connection}". Known connections: ${deps.knownConnections.join(', ')}.`,
    );
  }
}

/** Runs a command body and turns its failure into one plain line and an exit code. */
export async function asExitCode(deps: OperatorDeps, command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    deps.err(`qbsync ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/**
 * The body of a command about one connection's workflows (all connections when `connection` is undefined): a name
 * this machine does not serve is refused before Temporal is asked, then `work` runs with a client; a failure becomes
 * one line and exit code 1.
 */
export function connectionCommand(
  deps: OperatorDeps,
  command: string,
  connection: string | undefined,
  work: (client: Client) => Promise<number>,
): Promise<number> {
  return asExitCode(deps, command, async () => {
    requireKnownConnection(deps, connection);
    return withTemporal(deps, work);
  });
}

/**
 * The deployment as this machine knows it (see `loadDeployment`). Undefined when there is neither a configuration file
 * nor the sandbox's connections: Temporal is then the judge. An invalid file is an error the operator must see.
 */
function localDeployment(dataDir: string, env: NodeJS.ProcessEnv = process.env): Deployment | undefined {
  if (!hasConfigFile(dataDir, env) && !existsSync(connectionsFilePath(dataDir))) return undefined;
  return loadDeployment({ dataDir, env });
}

/** Connections this deployment serves, with their configured poll schedule (hourly on the sandbox). */
export function localConnectionSchedules(dataDir: string): Map<string, ConnectionSchedule> | undefined {
  const deployment = localDeployment(dataDir);
  return deployment && new Map(deployment.connections.map((c) => [c.name, c.schedule]));
}

const DURATION = /^([1-9]\d*)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90m`, `24h`, `30d`: whole minutes, hours or days, the units Temporal's schedule intervals and the CLI share. */
export function parseWholeDuration(value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new InvalidArgumentError('give a whole number of minutes, hours or days, such as 30m, 1h or 7d');
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export function formatWholeDuration(ms: number): string {
  if (ms % UNIT_MS.d === 0) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** A string literal inside a visibility query. */
export function queryLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function shellWord(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(word)) return word;
  // Visibility queries are full of single quotes: double quotes keep them readable when nothing inside expands.
  if (word.includes("'") && !/["$`\\!]/.test(word)) return `"${word}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `temporal` CLI command doing the same, for operators who script against the CLI or read its docs. */
function temporalCommand(deps: OperatorDeps, args: readonly string[]): string {
  const address = temporalAddress(deps);
  const namespace = temporalNamespace(deps);
  const target = [
    ...(address === DEFAULT_ADDRESS || address === 'localhost:7233' ? [] : ['--address', address]),
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
  ];
  return ['temporal', ...args, ...target].map(shellWord).join(' ');
}

export function printEquivalent(deps: OperatorDeps, args: readonly string[]): void {
  deps.err(`equivalent: ${temporalCommand(deps, args)}`);
}

/**
 * The surroundings of a command run from the shell: local connections, the configured Temporal with its TLS and API
 * key, the codec's keys, the terminal.
 */
export function operatorDeps(dataDir: string): OperatorDeps {
  const deployment = localDeployment(resolve(dataDir));
  return {
    // The configured Temporal (environment variables still win): `qbsync` then manages what the worker serves.
    ...(deployment
      ? {
          knownConnections: deployment.connections.map((c) => c.name),
          address: deployment.temporal.address,
          namespace: deployment.temporal.namespace,
          taskQueue: deployment.temporal.taskQueue,
        }
      : {}),
    temporalSecurity: () => {
      const { tls, apiKey } = deployment
        ? deployment.temporalTarget()
        : temporalTargetFromEnvironment(resolve(dataDir));
      return { ...(tls ? { tls } : {}), ...(apiKey !== undefined ? { apiKey } : {}) };
    },
    dataConverter: loadConnectorDataConverter(resolve(dataDir)),
    out: (text) => process.stdout.write(text),
    err: (line) => console.error(line),
  };
}

/** A commander action: builds the surroundings, runs the command, and leaves its exit code for the process. */
export function operatorAction<A extends unknown[]>(
  dataDir: () => string,
  command: string,
  body: (deps: OperatorDeps, ...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let deps: OperatorDeps;
    try {
      deps = operatorDeps(dataDir());
    } catch (error) {
      console.error(`qbsync ${command}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
      return;
    }
    process.exitCode = await asExitCode(deps, command, () => body(deps, ...args));
  };
}
