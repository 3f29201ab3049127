/**
 * The Temporal worker of `npm run bench` (bench/syncPhases.ts), in a process of its own so its peak RSS is the
 * worker's alone. Forked by bench/workerProcess.ts, which sends it a `start` with the Temporal address, the task
 * queue, the company files, the Dataverse sandbox's sign-in and the workflow bundle the benchmark wrote; it builds the
 * worker as production does (`createConnectorWorker`: the same workflow cache bound), with one Dataverse client whose
 * governor records when each request started, and answers over IPC with those start times and its memory. The
 * per-row initial load runs a second one, its Dataverse calls one request a row, on a task queue of its own.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { sandboxSyncSettings } from '../src/config/syncSettings';
import { RateGovernor, type RateGovernorOptions } from '../src/dataverse';
import { createConnectorWorker } from '../src/worker';
import { connectToSandbox } from '../test/support/dataverseSandbox';
import type { BenchWorkerConfig, FromWorker, ToWorker, WorkerMemory } from './workerProcess';

/** The worker's one governor, recording when each request started. */
class MeasuredGovernor extends RateGovernor {
  readonly requestStarts: number[] = [];
  constructor(options: RateGovernorOptions) {
    super(options);
  }
  override run<T>(fn: () => Promise<T>): Promise<T> {
    return super.run(() => {
      this.requestStarts.push(Date.now());
      return fn();
    });
  }
}

const MiB = 2 ** 20;
const round = (n: number): number => Math.round(n * 10) / 10;

let atSampledPeak = process.memoryUsage();
let sampledPeakRss = atSampledPeak.rss;
let samples = 1;
const sample = (): void => {
  const now = process.memoryUsage();
  if (now.rss > sampledPeakRss) {
    sampledPeakRss = now.rss;
    atSampledPeak = now;
  }
};
const sampler = setInterval(() => {
  sample();
  samples += 1;
}, 500);

/**
 * This process's peak resident set in KiB since start or the last reset: VmHWM on Linux (its own, unlike `maxRSS`
 * after a fork), else `maxRSS`.
 */
function peakRssKiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hwm) return Number(hwm);
  } catch {
    // Not Linux: maxRSS is the best there is.
  }
  return process.resourceUsage().maxRSS;
}

/** The peak until the worker was ready (KiB), and whether the high-water mark was reset then. */
let startPeakKiB: number | undefined;
let peakReset = false;

/**
 * Called once the worker is ready: keeps the start's peak (loading the code and the workflow bundle, connecting) and
 * resets the high-water mark (`5` to /proc/self/clear_refs, Linux), so the peak from here on is the running worker's.
 */
function markReady(): void {
  startPeakKiB = peakRssKiB();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    peakReset = true;
  } catch {
    // No reset: the running peak stays unknown; the whole-life peak is unaffected.
  }
}

function memory(): WorkerMemory {
  sample();
  const sinceReset = peakRssKiB();
  return {
    peakRssMiB: round(Math.max(sinceReset, startPeakKiB ?? 0) / 1024),
    startPeakRssMiB: startPeakKiB === undefined ? null : round(startPeakKiB / 1024),
    runningPeakRssMiB: peakReset ? round(sinceReset / 1024) : null,
    sampledPeakRssMiB: round(sampledPeakRss / MiB),
    resourceUsageMaxRssMiB: round(process.resourceUsage().maxRSS / 1024),
    samples,
    atSampledPeak: {
      heapUsedMiB: round(atSampledPeak.heapUsed / MiB),
      heapTotalMiB: round(atSampledPeak.heapTotal / MiB),
      externalMiB: round(atSampledPeak.external / MiB),
      outsideHeapMiB: round((atSampledPeak.rss - atSampledPeak.heapTotal - atSampledPeak.external) / MiB),
    },
  };
}

const send = (message: FromWorker): Promise<void> =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send?.(message, undefined, undefined, () => resolve());
  });

// Sent every 2 s, so the parent has a figure even if this process dies.
const reporter = setInterval(() => void send({ type: 'memory', memory: memory() }), 2000);

interface Running {
  worker: Worker;
  run: Promise<void>;
  governor: MeasuredGovernor;
  close(): Promise<void>;
}
let running: Running | undefined;
let stopping = false;

async function start(config: BenchWorkerConfig): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const governor = new MeasuredGovernor(config.governor);
  const dataverse = connectToSandbox(config.sandbox, 'dataverse', { governor });
  const settings = new Map(config.companyFiles.map((c) => [c, sandboxSyncSettings(c)]));
  const worker = await createConnectorWorker({
    connection: nativeConnection,
    client,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: { codePath: config.workflowBundlePath },
    sync: {
      dataverse: dataverse.client,
      settings,
      ...(config.dataverseCalls === 'perRow' ? { bulkWrites: false, bulkReads: false, bulkUpdates: false } : {}),
    },
  });
  markReady();
  const run = worker.run();
  running = {
    worker,
    run,
    governor,
    async close() {
      await dataverse.close();
      await nativeConnection.close();
      await connection.close();
    },
  };
  // A worker that stops without being asked to is a failure of the benchmark.
  run.then(
    () => {
      if (!stopping) void fail(new Error('the worker stopped on its own'));
    },
    (error: unknown) => {
      if (!stopping) void fail(error);
    },
  );
  await send({ type: 'ready' });
}

/** Shuts the worker down, reports the final memory and exits with `code`; once, whoever asks first. */
async function stop(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  // Whatever happens below, the process ends.
  setTimeout(() => process.exit(code || 1), 60_000).unref();
  try {
    if (running) {
      // Not running (it failed, or is stopping already): nothing to shut down.
      if (running.worker.getState() === 'RUNNING') running.worker.shutdown();
      await running.run.catch(() => undefined);
      await running.close();
    }
  } catch (error) {
    console.error(`[bench worker] while stopping: ${error instanceof Error ? error.message : String(error)}`);
    code ||= 1;
  }
  clearInterval(sampler);
  clearInterval(reporter);
  await send({ type: 'stopped', memory: memory() });
  process.exit(code);
}

async function fail(error: unknown): Promise<never> {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`[bench worker] ${text}`);
  await send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
  return stop(1);
}

process.on('message', (raw) => {
  const message = raw as ToWorker;
  switch (message.type) {
    case 'start':
      start(message.config).catch((error: unknown) => void fail(error));
      break;
    case 'requestStarts':
      void send({
        type: 'requestStarts',
        id: message.id,
        starts: running?.governor.requestStarts.slice(message.from) ?? [],
      });
      break;
    case 'memory':
      void send({ type: 'memory', id: message.id, memory: memory() });
      break;
    case 'shutdown':
      void stop(0);
      break;
  }
});
// The benchmark is gone (it ended or crashed): stop rather than linger.
process.on('disconnect', () => void stop(stopping ? 0 : 1));
