/**
 * npm run bench -- --cluster — scale-out on the production topology (issue 17 item 3): a real Temporal cluster on the
 * local PostgreSQL (two frontends, two history services, matching, the system worker; scripts/temporal-cluster.mjs),
 * N QuickBooks company files syncing at once, each with its own Web Connector simulator running sessions back to back
 * against one gateway, and the connector's workers — first one, then two — on one task queue. Each round gives every
 * file fresh customers and runs one poll cycle per file; it ends when every cycle and every record run it started has
 * ended. Measured per round: records a second, QBWC sessions a second, the wall time of a QBWC session (p50, p95) at N
 * concurrent sessions, and Temporal's own figures read from the history services' Prometheus endpoints (state
 * transitions a second, persistence latency). The Dataverse sandbox keeps Dataverse's real per-user limits (6,000
 * requests per 300 s, 52 concurrent): where they bind, the figures say so. Results: bench/results/cluster.json.
 *
 *   npm run bench -- --cluster [--files 20] [--customers 20] [--workers 1,2] [--qbwc-every-ms 1000]
 *
 * What "two workers" is here: two Worker instances in this one process (each its own workflow threads and task
 * slots), not two machines; on a 2-core machine it shows whether the worker or something behind it binds first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../src/activities';
import { sandboxSyncSettings, type SyncSettings } from '../src/config/syncSettings';
import { provisionDataverse, RateGovernor } from '../src/dataverse';
import { startDataverseSandbox } from '../src/sandbox/dataverse/server';
import { seedGeneratedCustomers } from '../src/sandbox/quickbooks/benchmarkData';
import { CompanyFileSimulator } from '../src/sandbox/quickbooks/companyFile';
import { WebConnectorSimulator } from '../src/sandbox/webConnector/webConnectorSimulator';
import { pollCycle } from '../src/workflows/pollCycle';
import { connectToSandbox } from '../test/support/dataverseSandbox';
import { startTestGateway } from '../test/support/gateway';
import { companyFileProcessor } from '../test/support/quickbooksStack';
import { temporalCliPath } from '../test/support/temporal';
import type { TemporalCluster } from '../scripts/temporal-cluster.mjs';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}
function numberArg(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a whole number ≥ 1`);
  return value;
}

const files = numberArg('--files', 20);
const customersPerFile = numberArg('--customers', 20);
const workerCounts = (arg('--workers') ?? '1,2').split(',').map((w) => {
  const n = Number(w);
  if (!Number.isInteger(n) || n < 1) throw new Error('--workers needs whole numbers ≥ 1, e.g. 1,2');
  return n;
});
const qbwcEveryMs = numberArg('--qbwc-every-ms', 1000);
const roundTimeoutMs = numberArg('--round-timeout-s', 1800) * 1000;
const taskQueue = 'bench-cluster';
const basePort = 28233;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
const log = (m: string): void => console.log(`[bench:cluster] ${m}`);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One Prometheus sample: name, labels as written, value. */
interface Sample {
  name: string;
  labels: string;
  value: number;
}

async function scrape(port: number): Promise<Sample[]> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const samples: Sample[] = [];
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (m && !line.startsWith('#')) samples.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
    }
    return samples;
  } catch {
    return [];
  }
}

/** Temporal's figures over a round, from the difference of two scrapes of every history service. */
function temporalFigures(before: Sample[], after: Sample[], seconds: number) {
  const sum = (samples: Sample[], name: string, labelFilter?: RegExp): number =>
    samples
      .filter((s) => s.name === name && (!labelFilter || labelFilter.test(s.labels)))
      .reduce((n, s) => n + (Number.isFinite(s.value) ? s.value : 0), 0);
  const delta = (name: string, labelFilter?: RegExp): number =>
    sum(after, name, labelFilter) - sum(before, name, labelFilter);
  // Histogram buckets of persistence latency, all operations together: the p95 is the first bucket holding 95 %.
  const bucketBounds = [
    ...new Set(
      after
        .filter((s) => s.name === 'persistence_latency_bucket')
        .map((s) => /le="([^"]+)"/.exec(s.labels)?.[1])
        .filter((le): le is string => le !== undefined),
    ),
  ]
    .map((le) => ({ le, bound: le === '+Inf' ? Infinity : Number(le) }))
    .sort((a, b) => a.bound - b.bound);
  const persistenceCount = delta('persistence_latency_count');
  let p95: number | undefined;
  for (const { le, bound } of bucketBounds) {
    const inBucket = delta('persistence_latency_bucket', new RegExp(`le="${le.replace(/[.+]/g, '\\$&')}"`));
    if (persistenceCount > 0 && inBucket >= 0.95 * persistenceCount) {
      p95 = bound;
      break;
    }
  }
  const stateTransitions = delta('state_transition_count_sum');
  return {
    stateTransitions,
    stateTransitionsPerSecond: round(stateTransitions / seconds),
    persistenceRequests: persistenceCount,
    persistenceRequestsPerSecond: round(persistenceCount / seconds),
    persistenceLatencyMeanMs:
      persistenceCount > 0 ? round((delta('persistence_latency_sum') / persistenceCount) * 1000) : null,
    persistenceLatencyP95Ms: p95 === undefined || !Number.isFinite(p95) ? null : round(p95 * 1000),
  };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const clusterModule = await import('../scripts/temporal-cluster.mjs');
  if (!(await clusterModule.postgresReachable())) {
    throw new Error(
      'PostgreSQL is not reachable at 127.0.0.1:5432: the cluster benchmark needs it (docs/deployment.md §3a)',
    );
  }
  const dataDir = mkdtempSync(join(os.tmpdir(), 'qbsync-bench-cluster-'));
  const database = {
    ...clusterModule.DEFAULT_DATABASE,
    name: 'temporal_qbsync_bench',
    visibilityName: 'temporal_qbsync_bench_visibility',
  };
  clusterModule.dropDatabases({ database });
  const started = Date.now();
  const loadSamples: number[] = [];
  const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0]!), 10_000);
  loadTimer.unref();
  let cluster: TemporalCluster | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    cluster = await clusterModule.startTemporalCluster({
      dataDir,
      database,
      basePort,
      cli: temporalCliPath(),
      log,
    });
    const historyMetricsPorts = cluster.layout.processes
      .filter((p) => p.service === 'history')
      .map((p) => p.metricsPort);
    const nativeConnection = await NativeConnection.connect({ address: cluster.address });
    closers.push(() => nativeConnection.close());
    const client = new Client({ connection: nativeConnection, namespace: cluster.namespace });

    // Dataverse's real service-protection limits per user; the connector's governor is told the same.
    const sandbox = await startDataverseSandbox({ port: 0, dataDir: join(dataDir, 'dataverse'), seed: true });
    closers.push(() => sandbox.close());
    const dataverseConnection = connectToSandbox(sandbox, 'bench-cluster', {
      governor: new RateGovernor({ name: 'bench-cluster' }),
    });
    closers.push(() => dataverseConnection.close());
    let report = await provisionDataverse(dataverseConnection.client, { log: pino({ level: 'silent' }) });
    while (Object.keys(report.keysNotActive).length > 0) {
      await sleep(200);
      report = await provisionDataverse(dataverseConnection.client, { log: pino({ level: 'silent' }) });
    }

    const names = Array.from({ length: files }, (_, i) => `f${String(i + 1).padStart(2, '0')}`);
    const passwords = Object.fromEntries(names.map((n) => [n, `${n}-password`]));
    const gateway = await startTestGateway(client, taskQueue, passwords, { callTimeoutMs: 30_000 });
    closers.push(() => gateway.close());
    const companyFiles = new Map(names.map((n) => [n, new CompanyFileSimulator({ name: n })]));
    const settings = new Map<string, SyncSettings>(names.map((n) => [n, sandboxSyncSettings(n)]));
    const connectors = new Map(
      names.map((n) => [
        n,
        new WebConnectorSimulator({
          qwc: {
            appName: `bench ${n}`,
            appUrl: gateway.qbwcUrl,
            appDescription: 'bench',
            appSupport: `${gateway.url}/healthz`,
            userName: `qb-${n}`,
            ownerId: '{57F3B9B1-86F1-4fcc-B1EE-566DE1813D20}',
            fileId: '{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}',
            qbType: 'QBFS',
            isReadOnly: false,
            runEveryNSeconds: 1,
          },
          password: passwords[n]!,
          companyFilePath: `C:\\QuickBooks\\${n}.qbw`,
          processor: companyFileProcessor(companyFiles.get(n)!),
          noOpWaitMs: 50,
        }),
      ]),
    );
    const rounds = [];
    for (const [index, workerCount] of workerCounts.entries()) {
      const workers: { worker: Worker; running: Promise<void> }[] = [];
      for (let w = 0; w < workerCount; w++) {
        // A connection each: the SDK refuses two workers of one task queue on one connection.
        const workerConnection = await NativeConnection.connect({ address: cluster.address });
        closers.push(() => workerConnection.close());
        const worker = await Worker.create({
          connection: workerConnection,
          taskQueue,
          workflowsPath: require.resolve('../src/workflows'),
          activities: createActivities({ client, taskQueue, dataverse: dataverseConnection.client, settings }),
        });
        workers.push({ worker, running: worker.run() });
      }
      for (const [i, n] of names.entries()) {
        seedGeneratedCustomers(companyFiles.get(n)!, customersPerFile, 1000 * (index + 1) + i);
      }
      log(
        `round ${index + 1}: ${files} company files, ${customersPerFile} new customers each, ${workerCount} worker(s)`,
      );
      const before = (await Promise.all(historyMetricsPorts.map(scrape))).flat();
      const dataverseBefore = sandbox.stats();
      const roundStart = performance.now();
      const roundStartTime = new Date();
      const cycles = await Promise.all(
        names.map((n) =>
          client.workflow.start(pollCycle, {
            workflowId: `poll/${n}-${roundStartTime.getTime()}`,
            taskQueue,
            args: [{ connection: n }],
          }),
        ),
      );
      let cyclesDone = 0;
      const cyclesEnded = Promise.all(
        cycles.map((c) =>
          c.result().finally(() => {
            cyclesDone += 1;
          }),
        ),
      );
      cyclesEnded.catch(() => undefined);
      const sessionMs: number[] = [];
      let sessions = 0;
      let working = true;
      // Each file's Web Connector runs sessions back to back on its timer, all files at once.
      const loops = names.map(async (n) => {
        const connector = connectors.get(n)!;
        while (working) {
          const t = performance.now();
          const run = await connector.runSession().catch(() => undefined);
          const ms = performance.now() - t;
          if (run && run.roundTrips > 0) sessionMs.push(ms);
          sessions += 1;
          await sleep(Math.max(0, qbwcEveryMs - ms));
        }
      });
      const since = roundStartTime.toISOString();
      const recordQuery = (status: string) =>
        `WorkflowType = 'quickbooksRecordSync' AND StartTime >= '${since}' AND ExecutionStatus = '${status}'`;
      const deadline = Date.now() + roundTimeoutMs;
      // Done: every cycle ended and no record run of the round is still running, seen twice a few seconds apart
      // (visibility on PostgreSQL lags the runs by a moment). Counted: the QuickBooks records the round added; the
      // demo organisation's own orders, which no company file here receives, fail in the first round and are left out.
      let idle = 0;
      while (Date.now() < deadline && idle < 2) {
        await sleep(2000);
        const runningRecords = (await client.workflow.count(recordQuery('Running'))).count;
        idle = cyclesDone === files && runningRecords === 0 ? idle + 1 : 0;
      }
      const seconds = (performance.now() - roundStart) / 1000;
      working = false;
      await Promise.all(loops);
      const after = (await Promise.all(historyMetricsPorts.map(scrape))).flat();
      const completed = (await client.workflow.count(recordQuery('Completed'))).count;
      const failed = (await client.workflow.count(recordQuery('Failed'))).count;
      const sorted = [...sessionMs].sort((a, b) => a - b);
      const figures = {
        workers: workerCount,
        companyFiles: files,
        newCustomers: files * customersPerFile,
        finished: idle >= 2,
        seconds: round(seconds, 1),
        recordRunsCompleted: completed,
        recordRunsFailed: failed,
        recordsPerSecond: round(completed / seconds),
        qbwcSessions: sessions,
        qbwcSessionsWithWork: sessionMs.length,
        qbwcSessionsPerSecond: round(sessions / seconds),
        sessionWithWorkMs: { p50: round(percentile(sorted, 50), 0), p95: round(percentile(sorted, 95), 0) },
        temporal: temporalFigures(before, after, seconds),
        dataverse: (() => {
          const stats = sandbox.stats();
          const d = {
            requests: stats.requests - dataverseBefore.requests,
            throttled: stats.throttled - dataverseBefore.throttled,
          };
          return { ...d, requestsPerSecond: round(d.requests / seconds) };
        })(),
      };
      log(JSON.stringify(figures));
      rounds.push(figures);
      for (const { worker } of workers) worker.shutdown();
      await Promise.all(workers.map((w) => w.running));
    }
    const out = {
      command: `npm run bench -- --cluster ${process.argv.slice(2).join(' ')}`.trim(),
      date: new Date(started).toISOString(),
      machine: {
        cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
        cores: os.cpus().length,
        node: process.version,
        loadAverage: {
          median: round([...loadSamples].sort((a, b) => a - b)[Math.floor(loadSamples.length / 2)] ?? os.loadavg()[0]!),
          max: round(Math.max(...loadSamples, os.loadavg()[0]!)),
        },
      },
      topology: {
        temporal: cluster.layout.processes.map((p) => p.name),
        persistence: 'PostgreSQL 127.0.0.1:5432',
        gateways: 1,
        dataverseLimits: '6,000 requests / 300 s and 52 concurrent per user (the real ones)',
      },
      rounds,
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'cluster.json'), `${JSON.stringify(out, null, 2)}\n`);
    log(`bench/results/cluster.json written (${round((Date.now() - started) / 60_000, 1)} min)`);
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await cluster?.stop();
    clusterModule.dropDatabases({ database });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
