/**
 * The benchmark's Temporal worker as its own Node process (bench/benchWorker.ts), so its memory is measured apart from
 * the gateway, the Web Connector simulators and the sandboxes. The parent talks to it over Node IPC: it hands over what
 * the worker needs, reads back when each Dataverse request started (the worker's governor, for the utilisation
 * figures) and the process's peak RSS, and stops it. A worker process that dies on its own fails the benchmark.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RateGovernorOptions } from '../src/dataverse';
import type { SandboxSignIn } from '../test/support/dataverseSandbox';

/** What the worker process needs to build its Temporal connections, its Dataverse client and its worker. */
export interface BenchWorkerConfig {
  temporal: { address: string; namespace: string };
  taskQueue: string;
  /** Company files whose sync settings the activities use: `sandboxSyncSettings(name)` each. */
  companyFiles: string[];
  sandbox: SandboxSignIn;
  governor: RateGovernorOptions;
  /**
   * The workflows bundled by the benchmark's own process (`writeWorkflowBundle`), as `npm run build` bundles them for
   * production: the bundling's few hundred MiB are not the worker's.
   */
  workflowBundlePath: string;
  /**
   * How the activities call Dataverse: gathered across record activities into bulk calls (`bulk`, as production), or
   * one request a row (`perRow`: bulk writes, reads and updates off, the connector before issue 15).
   */
  dataverseCalls: 'bulk' | 'perRow';
}

/**
 * The worker process's memory. Peaks are of its own resident set: VmHWM of /proc/self/status (Linux), else `maxRSS`.
 * `maxRSS` alone is not it on Linux: a forked child keeps the high-water mark of the parent's pages it was forked with.
 */
export interface WorkerMemory {
  /** Peak RSS through the process's whole life, its start (loading the workflow bundle) included. */
  peakRssMiB: number;
  /** Peak RSS until the worker was ready: loading the code and the workflow bundle, connecting. Null before. */
  startPeakRssMiB: number | null;
  /** Peak RSS since the worker was ready (high-water mark reset then): the sync itself. Null where it cannot be reset. */
  runningPeakRssMiB: number | null;
  /** Highest `process.memoryUsage().rss` of samples every 500 ms. */
  sampledPeakRssMiB: number;
  /** `process.resourceUsage().maxRSS`: on Linux it includes the parent's resident pages at the fork. */
  resourceUsageMaxRssMiB: number;
  samples: number;
  /**
   * Where the sampled peak lay: the V8 heap (the workflow cache, activities' data), memory outside it that V8 knows of
   * (buffers), and the rest of the RSS (the SDK's native core, code, the allocator's unreturned pages).
   */
  atSampledPeak: { heapUsedMiB: number; heapTotalMiB: number; externalMiB: number; outsideHeapMiB: number };
}

export type ToWorker =
  | { type: 'start'; config: BenchWorkerConfig }
  | { type: 'requestStarts'; id: number; from: number }
  | { type: 'memory'; id: number }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'requestStarts'; id: number; starts: number[] }
  /** Asked for (`id`), or sent every 2 s unasked. */
  | { type: 'memory'; id?: number; memory: WorkerMemory }
  | { type: 'stopped'; memory: WorkerMemory }
  | { type: 'failed'; error: string };

export interface WorkerProcess {
  /** When each request of the worker's Dataverse client started (ms since the epoch), in order, so far. */
  requestStarts(): Promise<readonly number[]>;
  /** Its memory now. */
  memory(): Promise<WorkerMemory>;
  /** Throws if the worker process has died. */
  assertAlive(): void;
  /** Rejects when the worker process dies on its own. */
  readonly died: Promise<never>;
  /** Shuts the worker down and waits for the process to exit; its final memory. Throws if it had died. */
  stop(): Promise<WorkerMemory | undefined>;
}

const STOP_TIMEOUT_MS = 120_000;

/** Forks bench/benchWorker.ts (under tsx, as the benchmark runs) and waits until its worker is running. */
export async function startWorkerProcess(config: BenchWorkerConfig): Promise<WorkerProcess> {
  const child: ChildProcess = fork(join(__dirname, 'benchWorker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const send = (message: ToWorker): void => {
    child.send(message);
  };
  let failure: Error | undefined;
  let stopping = false;
  let lastMemory: WorkerMemory | undefined;
  let nextId = 0;
  const pending = new Map<
    number,
    { resolve: (answer: number[] | WorkerMemory) => void; reject: (error: Error) => void }
  >();
  const starts: number[] = [];
  let reading: Promise<readonly number[]> = Promise.resolve(starts);
  let onReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let onStopped: ((memory: WorkerMemory | undefined) => void) | undefined;
  let rejectDied: (error: Error) => void = () => undefined;
  const died = new Promise<never>((_, reject) => {
    rejectDied = reject;
  });
  died.catch(() => undefined);

  const fail = (error: Error): void => {
    if (failure) return;
    failure = error;
    console.error(`[bench] ${error.message}`);
    for (const p of pending.values()) p.reject(error);
    pending.clear();
    onReady?.reject(error);
    rejectDied(error);
  };
  const answer = (id: number, value: number[] | WorkerMemory): void => {
    pending.get(id)?.resolve(value);
    pending.delete(id);
  };
  /** Asks the worker process `question` and waits for its answer. */
  const ask = <T extends number[] | WorkerMemory>(question: (id: number) => ToWorker): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: (value) => resolve(value as T), reject });
      send(question(id));
    });
  };
  child.on('message', (raw) => {
    const message = raw as FromWorker;
    switch (message.type) {
      case 'ready':
        onReady?.resolve();
        break;
      case 'requestStarts':
        answer(message.id, message.starts);
        break;
      case 'memory':
        lastMemory = message.memory;
        if (message.id !== undefined) answer(message.id, message.memory);
        break;
      case 'stopped':
        lastMemory = message.memory;
        break;
      case 'failed':
        fail(new Error(`the worker process failed: ${message.error}`));
        break;
    }
  });
  child.on('error', (error) => fail(new Error(`the worker process: ${error.message}`)));
  child.on('exit', (code, signal) => {
    if (!stopping || code !== 0) {
      fail(new Error(`the worker process exited (${signal ? `signal ${signal}` : `code ${code}`}) before the end`));
    }
  });
  // After the exit and the IPC channel's end, so its last message (`stopped`) has been read.
  child.on('close', () => onStopped?.(lastMemory));

  await new Promise<void>((resolve, reject) => {
    onReady = { resolve, reject };
    send({ type: 'start', config });
  });
  onReady = undefined;

  const assertAlive = (): void => {
    if (failure) throw failure;
  };
  return {
    requestStarts() {
      // One question at a time, each for the starts after those already read.
      reading = reading.then(async () => {
        assertAlive();
        const more = await ask<number[]>((id) => ({ type: 'requestStarts', id, from: starts.length }));
        for (const t of more) starts.push(t);
        return starts;
      });
      return reading;
    },
    memory: () => ask<WorkerMemory>((id) => ({ type: 'memory', id })),
    assertAlive,
    died,
    async stop() {
      // It died on its own: the benchmark fails, here too if nothing noticed before.
      assertAlive();
      if (child.exitCode !== null || child.signalCode !== null) return lastMemory;
      stopping = true;
      const exited = new Promise<WorkerMemory | undefined>((resolve) => {
        onStopped = resolve;
      });
      send({ type: 'shutdown' });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`the worker process did not stop within ${STOP_TIMEOUT_MS / 1000} s; killed`);
      }
      assertAlive();
      return outcome;
    },
  };
}
