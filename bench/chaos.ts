/**
 * npm run chaos — the connector under faults (issue 11): the sandbox stack with the worker, the gateway and the
 * Temporal dev server as separate processes, a steady load on both systems, and faults on a seeded random schedule;
 * then the oracle counts what was lost, duplicated or left stuck. Results: bench/results/chaos.json.
 *
 *   npm run chaos -- --faults 1000 --seed 1 [--kinds killWorker,killGateway,...] [--interval-ms 2000] [--keep]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { temporalCliPath } from '../test/support/temporal';
import { FAULT_KINDS, runChaos, type FaultKind } from './chaos/run';

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
  const kinds = arg('--kinds')?.split(',') ?? [...FAULT_KINDS];
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new Error(`unknown fault kinds ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  const started = new Date();
  const result = await runChaos({
    faults: Math.round(numberArg('--faults', 1000)),
    seed: Math.round(numberArg('--seed', 1)),
    kinds: kinds as FaultKind[],
    temporalCli: temporalCliPath(),
    meanFaultIntervalMs: numberArg('--interval-ms', 2000),
    convergeTimeoutMs: numberArg('--converge-timeout-ms', 900_000),
    keepDataDir: process.argv.includes('--keep'),
  });
  const out = {
    command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`,
    date: started.toISOString(),
    machine: { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', cores: os.cpus().length, node: process.version },
    target: { faults: 1000, lost: 0, duplicated: 0, stuck: 0, disagreed: 0 },
    ...result,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'chaos.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(
    `[chaos] ${result.faultsInjectedTotal} faults injected; ${result.recordsMoved} records moved; lost ${result.lost}, ` +
      `duplicated ${result.duplicated}, stuck ${result.stuck}, disagreeing ${result.disagreed}; converged ${result.converged} in ` +
      `${result.timeToConvergeSeconds.toFixed(0)} s; reconcile clean ${result.reconcileClean}. bench/results/chaos.json`,
  );
  // A field left different on the two sides fails the run as surely as a lost or doubled record.
  if (result.lost + result.duplicated + result.stuck + result.disagreed > 0 || !result.converged) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
