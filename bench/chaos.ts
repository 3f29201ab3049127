/**
 * npm run chaos — the connector under faults (issue 11): the sandbox stack with the worker, the gateway and the
 * Temporal dev server as separate processes, a steady load on both systems, and faults on a seeded random schedule;
 * then the oracle counts what was lost, duplicated or left stuck. Results: bench/results/chaos.json.
 *
 *   npm run chaos -- --faults 1000 --seed 1 [--kinds killWorker,killGateway,...] [--interval-ms 2000] [--keep]
 *
 * With --cluster, the same on the production topology (issue 17): a Temporal cluster on the local PostgreSQL (two
 * frontends, two history services, matching and the system worker as processes), two workers and two gateways, and
 * two more fault kinds, kill -9 of one history and of one frontend process. Results: bench/results/chaos-cluster.json.
 *
 *   npm run chaos -- --cluster --faults 30 --seed 7 [--cluster-port 26233]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { temporalCliPath } from '../test/support/temporal';
import { CLUSTER_FAULT_KINDS, FAULT_KINDS, runChaos, type FaultKind } from './chaos/run';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}
function numberArg(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} needs a number ≥ 0`);
  return value;
}

async function main(): Promise<void> {
  const onCluster = process.argv.includes('--cluster');
  const known: readonly string[] = onCluster ? CLUSTER_FAULT_KINDS : FAULT_KINDS;
  const kinds = arg('--kinds')?.split(',') ?? [...known];
  const unknown = kinds.filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`unknown fault kinds ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const started = new Date();
  const result = await runChaos({
    faults: Math.round(numberArg('--faults', 1000)),
    seed: Math.round(numberArg('--seed', 1)),
    kinds: kinds as FaultKind[],
    temporalCli: temporalCliPath(),
    meanFaultIntervalMs: numberArg('--interval-ms', 2000),
    convergeTimeoutMs: numberArg('--converge-timeout-ms', 900_000),
    keepDataDir: process.argv.includes('--keep'),
    ...(onCluster
      ? { cluster: { basePort: numberArg('--cluster-port', 26233), databaseName: 'temporal_qbsync_chaos' } }
      : {}),
  });
  const resultsFile = onCluster ? 'chaos-cluster.json' : 'chaos.json';
  const out = {
    command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`,
    date: started.toISOString(),
    machine: { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', cores: os.cpus().length, node: process.version },
    topology: onCluster
      ? 'Temporal cluster on PostgreSQL (2 frontends, 2 history, matching, worker), 2 workers, 2 gateways'
      : 'Temporal dev server, 1 worker, 1 gateway',
    target: { faults: 1000, lost: 0, duplicated: 0, stuck: 0, disagreed: 0 },
    ...result,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', resultsFile), `${JSON.stringify(out, null, 2)}\n`);
  console.log(
    `[chaos] ${result.faultsInjectedTotal} faults injected; ${result.recordsMoved} records moved; lost ${result.lost}, ` +
      `duplicated ${result.duplicated}, stuck ${result.stuck}, disagreeing ${result.disagreed}; converged ${result.converged} in ` +
      `${result.timeToConvergeSeconds.toFixed(0)} s; reconcile clean ${result.reconcileClean}. bench/results/${resultsFile}`,
  );
  // A field left different on the two sides fails the run as surely as a lost or doubled record.
  if (result.lost + result.duplicated + result.stuck + result.disagreed > 0 || !result.converged) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
