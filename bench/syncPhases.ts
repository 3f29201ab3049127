/**
 * npm run bench — the whole connector on the sandboxes, through five phases on generated, deterministic data:
 * initial load, incremental (1% changed on each side), idle cycle, webhook latency, naive baseline. One process holds
 * the worker, the gateway, both QuickBooks company files with their Web Connector simulators and the Dataverse
 * sandbox; the Temporal dev server is its own process. Results: bench/results/latest.json.
 *
 *   npm run bench [-- --scale <f>] [--requests-per-window R] [--window-seconds S] [--concurrent C]
 *                 [--webhook-orders N] [--quiet-period-ms Q]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../src/activities';
import { sandboxSyncSettings } from '../src/config/syncSettings';
import {
  COMPANY_FILE_COLUMN,
  DataverseClient,
  DataverseThrottledError,
  DataverseTokenProvider,
  ENTITY_SETS,
  RateGovernor,
  provisionDataverse,
  qbListKey,
  type RateGovernorOptions,
} from '../src/dataverse';
import { summarizeDataverseChange } from '../src/gateway/webhooks/changeSummary';
import { temporalRecordSyncStarter } from '../src/gateway/webhooks/recordSyncStarter';
import { seedGeneratedSalesOrders } from '../src/sandbox/dataverse/demoOrganisation';
import { startDataverseSandbox, type DataverseSandbox } from '../src/sandbox/dataverse/server';
import { editGeneratedRecords, seedGeneratedItems } from '../src/sandbox/quickbooks/benchmarkData';
import { seedDemoCompany, seedGeneratedCustomers } from '../src/sandbox/quickbooks/demoCompany';
import type { WebConnectorRunReport, WebConnectorSimulator } from '../src/sandbox/webConnector/webConnectorSimulator';
import { pollCycle, type PollCycleResult } from '../src/workflows/pollCycle';
import { dataverseRecordWorkflowId } from '../src/workflows/recordIds';
import { startQuickBooksStack } from '../test/support/quickbooksStack';
import { startTestTemporal } from '../test/support/temporal';
import { enqueueTimes, phaseCost, type PhaseCost } from './temporalCost';

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} needs a number ≥ 0`);
  return value;
}

const scale = argValue('--scale', 1);
// Dataverse's real limits are 6,000 requests per 300 s per user and 52 concurrent; scaled up (×5 the rate by default,
// a 10 s window) so a run spans many windows in minutes.
const windowSeconds = argValue('--window-seconds', 10);
const requestsPerWindow = Math.round(argValue('--requests-per-window', 1000));
const concurrentLimit = Math.round(argValue('--concurrent', 52));
const webhookOrders = Math.round(argValue('--webhook-orders', 20));
const quietPeriodMs = Math.round(argValue('--quiet-period-ms', 0));
const customers = Math.max(1, Math.round(10_000 * scale));
const items = Math.max(1, Math.round(2_000 * scale));
const orders = Math.max(1, Math.round(1_000 * scale));
const LINES_PER_ORDER = 5;
const CHANGED = 0.01;
const taskQueue = 'bench-sync';

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (m: string): void => console.log(`[bench] ${m}`);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

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

/** The naive client's "governor": starts every request at once and ignores Retry-After. */
class NoGovernor extends RateGovernor {
  override run<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  override throttled(): void {}
}

/** Requests started in whole windows after `from` ÷ what those windows allow; the busiest sliding window. */
function utilisation(starts: readonly number[], from: number, until: number) {
  const windowMs = windowSeconds * 1000;
  const inPhase = starts.filter((t) => t >= from && t <= until);
  let peak = 0;
  for (let hi = 0, lo = 0; hi < inPhase.length; hi++) {
    while ((inPhase[lo] ?? 0) <= (inPhase[hi] ?? 0) - windowMs) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  const first = inPhase[0] ?? from;
  const last = inPhase.at(-1) ?? until;
  const whole = Math.floor((last - first) / windowMs);
  const counted = inPhase.filter((t) => t >= first && t < first + whole * windowMs).length;
  const seconds = Math.max(0.001, (last - first) / 1000);
  return {
    requests: inPhase.length,
    seconds: round(seconds, 1),
    requestsPerSecond: round(inPhase.length / seconds),
    wholeWindows: whole,
    achievedOverBudget: whole > 0 ? round(counted / (whole * requestsPerWindow), 3) : null,
    wholeRunRateOverBudget: round(inPhase.length / seconds / (requestsPerWindow / windowSeconds), 3),
    peakInAnySlidingWindow: peak,
  };
}

interface SessionTally {
  sessions: number;
  roundTrips: number;
  requestsSent: number;
}
const tally = (reports: WebConnectorRunReport[]): SessionTally => ({
  sessions: reports.filter((r) => r.roundTrips > 0).length,
  roundTrips: reports.reduce((n, r) => n + r.roundTrips, 0),
  requestsSent: reports.reduce((n, r) => n + r.requestsSent, 0),
});

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'bench-sync-'));
  const limits = { requestsPerWindow, windowSeconds, concurrent: concurrentLimit };
  const governorOptions = {
    maxConcurrent: Math.max(1, concurrentLimit - 4),
    requestsPerWindow,
    windowMs: windowSeconds * 1000,
    safetyMargin: 0.95,
  };
  const totalStart = Date.now();
  const rssSamples: number[] = [];
  const rssTimer = setInterval(() => rssSamples.push(process.memoryUsage().rss), 500);
  rssTimer.unref();

  const env = await startTestTemporal();
  const sandbox: DataverseSandbox = await startDataverseSandbox({
    port: 0,
    dataDir: join(dataDir, 'dataverse'),
    seed: true,
    limits,
    tokenLifetimeSeconds: 3600,
    keyActivationDelayMs: 50,
  });
  const tokenProvider = (connection: string): DataverseTokenProvider =>
    new DataverseTokenProvider({
      connection,
      tenantId: sandbox.tenantId,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      environmentUrl: sandbox.environmentUrl,
      authority: sandbox.authority,
      caPem: sandbox.caCertPem,
    });
  const tokens = tokenProvider('dataverse');
  const governor = new MeasuredGovernor(governorOptions);
  const dataverse = new DataverseClient({
    connection: 'dataverse',
    webApiUrl: sandbox.webApiUrl,
    tokenProvider: tokens,
    caPem: sandbox.caCertPem,
    governor,
  });
  let report = await provisionDataverse(dataverse, { log: pino({ level: 'silent' }) });
  while (Object.keys(report.keysNotActive).length > 0) {
    await sleep(100);
    report = await provisionDataverse(dataverse, { log: pino({ level: 'silent' }) });
  }

  const quickbooks = await startQuickBooksStack(env, taskQueue, { callTimeoutMs: 30_000 });
  const east = quickbooks.files.east!;
  const west = quickbooks.files.west!;
  for (const office of ['east', 'west'] as const) seedDemoCompany(quickbooks.files[office]!, { office });

  // Every InvoiceAdd QuickBooks accepted, by the order's ExternalGUID: when the invoice landed.
  const landed = new Map<string, number>();
  const eastConnector = quickbooks.connector('east', async (xml) => {
    const answer = east.processRequest(xml);
    if (xml.includes('InvoiceAddRq')) {
      for (const m of answer.matchAll(/<ExternalGUID>\{?([0-9a-fA-F-]{36})\}?<\/ExternalGUID>/g)) {
        if (m[1] && !landed.has(m[1].toLowerCase())) landed.set(m[1].toLowerCase(), Date.now());
      }
    }
    return answer;
  });
  const connectors: Record<string, WebConnectorSimulator> = { east: eastConnector, west: quickbooks.connector('west') };
  const settings = new Map(['east', 'west'].map((c) => [c, sandboxSyncSettings(c)]));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../src/workflows'),
    activities: createActivities({ client: env.client, taskQueue, dataverse, settings }),
  });
  const running = worker.run();
  const setupSeconds = round((Date.now() - totalStart) / 1000, 1);
  log(`stack up in ${setupSeconds} s`);

  const reports: WebConnectorRunReport[] = [];
  const session = async (names = ['east', 'west']): Promise<void> => {
    for (const n of names) reports.push(await connectors[n]!.runSession());
  };
  const recordsRunning = async (): Promise<number> =>
    (
      await env.client.workflow.count(
        "ExecutionStatus = 'Running' AND WorkflowType IN ('dataverseRecordSync', 'quickbooksRecordSync', 'pollCycle')",
      )
    ).count;

  /** One poll cycle of east, driving QBWC sessions until it and every record workflow it started have finished. */
  const cycle = async (label: string): Promise<PollCycleResult> => {
    const handle = await env.client.workflow.start(pollCycle, {
      workflowId: `poll/east/${label}`,
      taskQueue,
      args: [{ connection: 'east' }],
    });
    let settled = false;
    const done = handle.result().finally(() => {
      settled = true;
    });
    done.catch(() => undefined);
    while (!settled) {
      await session(['east']);
      if (!settled) await sleep(100);
    }
    const result = await done;
    for (let idle = 0; ;) {
      if ((await recordsRunning()) === 0) break;
      const before = reports.length;
      await session();
      idle = reports.slice(before).some((r) => r.roundTrips > 0) ? 0 : idle + 1;
      if (idle > 600) throw new Error('record workflows still running with nothing for QuickBooks after 600 sessions');
      await sleep(100);
    }
    return result;
  };

  interface PhaseMeasure {
    wallSeconds: number;
    from: number;
    to: number;
    qbwc: SessionTally;
    dataverse: { sandboxRequests: number; throttled429: number };
    temporal: PhaseCost;
  }
  const measure = async <T>(name: string, body: () => Promise<T>): Promise<{ value: T; m: PhaseMeasure }> => {
    log(`phase ${name}…`);
    const from = Date.now();
    const r0 = reports.length;
    const s0 = sandbox.stats();
    const value = await body();
    const to = Date.now();
    const s1 = sandbox.stats();
    const qbwc = tally(reports.slice(r0));
    log(`phase ${name}: ${round((to - from) / 1000, 1)} s; counting Temporal history…`);
    const temporal = await phaseCost(env.client, from, to);
    return {
      value,
      m: {
        wallSeconds: round((to - from) / 1000, 1),
        from,
        to,
        qbwc,
        dataverse: { sandboxRequests: s1.requests - s0.requests, throttled429: s1.throttled - s0.throttled },
        temporal,
      },
    };
  };

  /** Per entity and direction: record workflows started in the phase, and their rate from first start to last close. */
  const throughput = async (from: number, to: number) => {
    const spans = new Map<string, { n: number; failed: number; first: number; last: number }>();
    const query = `StartTime >= '${new Date(from).toISOString()}' AND StartTime <= '${new Date(to).toISOString()}'`;
    for await (const w of env.client.workflow.list({ query })) {
      const [side, entity] = w.workflowId.split('/');
      if (side !== 'qb' && side !== 'd365') continue;
      const key = side === 'qb' ? `QuickBooks→Dynamics ${w.workflowId.split('/')[2]}` : `Dynamics→QuickBooks ${entity}`;
      const s = spans.get(key) ?? { n: 0, failed: 0, first: Infinity, last: 0 };
      s.n += 1;
      if (w.status.name === 'FAILED') s.failed += 1;
      s.first = Math.min(s.first, w.startTime.getTime());
      s.last = Math.max(s.last, w.closeTime?.getTime() ?? to);
      spans.set(key, s);
    }
    const out: Record<string, { records: number; failed: number; seconds: number; recordsPerSecond: number }> = {};
    for (const [k, s] of [...spans].sort()) {
      const seconds = Math.max(0.001, (s.last - s.first) / 1000);
      out[k] = { records: s.n, failed: s.failed, seconds: round(seconds, 1), recordsPerSecond: round(s.n / seconds) };
    }
    return out;
  };

  /** Failed record workflows of a phase, and how many failed because Dataverse kept throttling. */
  const failures = async (from: number, to: number) => {
    const query =
      `ExecutionStatus = 'Failed' AND StartTime >= '${new Date(from).toISOString()}' ` +
      `AND StartTime <= '${new Date(to).toISOString()}'`;
    let failed = 0;
    let byThrottling = 0;
    const samples: string[] = [];
    for await (const w of env.client.workflow.list({ query })) {
      failed += 1;
      try {
        await env.client.workflow.getHandle(w.workflowId, w.runId).result();
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause ?? error;
        const message = cause instanceof Error ? cause.message : String(cause);
        if (/throttl|429|service protection/i.test(message)) byThrottling += 1;
        if (samples.length < 5) samples.push(`${w.workflowId}: ${message.slice(0, 200)}`);
      }
    }
    return { failed, byThrottling, samples };
  };

  const results: Record<string, unknown> = {};
  try {
    // ---- 1. initial load ------------------------------------------------------------------------------------
    seedGeneratedCustomers(east, customers, 1);
    seedGeneratedItems(east, items, 2);
    const orderIds = seedGeneratedSalesOrders(sandbox, orders, LINES_PER_ORDER, 3);
    log(`seeded ${customers} customers, ${items} items (east), ${orderIds.length} orders × ${LINES_PER_ORDER} lines`);
    const initial = await measure('initial', () => cycle('initial'));
    const initialThroughput = await throughput(initial.m.from, initial.m.to);
    const initialFailures = await failures(initial.m.from, initial.m.to);
    const initialUse = utilisation(governor.requestStarts, initial.m.from, initial.m.to);
    const recordsSynced = Object.values(initialThroughput).reduce((n, t) => n + t.records - t.failed, 0);
    const invoicesInQuickBooks = east.store.state.txns.filter((t) => t.kind === 'Invoice').length;
    results.initialLoad = {
      seeded: { customers, items, salesOrders: orderIds.length, linesPerOrder: LINES_PER_ORDER },
      ...initial.m,
      pollCycle: initial.value,
      throughput: initialThroughput,
      recordsSynced,
      invoicesInQuickBooks,
      failures: initialFailures,
      dataverseUtilisation: initialUse,
      qbxmlRequestsPerRoundTrip: round(initial.m.qbwc.requestsSent / Math.max(1, initial.m.qbwc.roundTrips)),
      roundTripsPer1000Records: round((1000 * initial.m.qbwc.roundTrips) / Math.max(1, recordsSynced)),
      historyEventsPerSyncedRecord: round(initial.m.temporal.events / Math.max(1, recordsSynced)),
      actionsPerSyncedRecord: round(initial.m.temporal.actions / Math.max(1, recordsSynced)),
    };
    log(JSON.stringify({ throughput: initialThroughput, utilisation: initialUse, qbwc: initial.m.qbwc }));

    // ---- 2. incremental: 1% changed on each side, one cycle ----------------------------------------------------
    await sleep(windowSeconds * 1000); // a fresh Dataverse window, so the lower bound below is the budget's
    const editedCustomers = editGeneratedRecords(east, ['Customer'], CHANGED, 'incremental');
    const editedItems = editGeneratedRecords(east, ['ItemNonInventory', 'ItemService'], CHANGED, 'incremental');
    const accountTable = sandbox.records.schema.table('account');
    const eastAccounts = sandbox.records.store
      .all('account')
      .filter((row) => row[COMPANY_FILE_COLUMN] === 'east' && row.qbsync_qblistid);
    const step = Math.max(1, Math.round(1 / CHANGED));
    let editedAccounts = 0;
    for (let i = 0; i < eastAccounts.length; i += step) {
      sandbox.records.update(
        accountTable,
        eastAccounts[i]!,
        { telephone1: `+1 555 01${String(i % 100)}` },
        {
          events: [],
        },
      );
      editedAccounts += 1;
    }
    const newOrders = seedGeneratedSalesOrders(sandbox, Math.max(1, Math.round(orders * CHANGED)), LINES_PER_ORDER, 4);
    const incremental = await measure('incremental', () => cycle('incremental'));
    const incrementalFailures = await failures(incremental.m.from, incremental.m.to);
    const incrementalUse = utilisation(governor.requestStarts, incremental.m.from, incremental.m.to);
    const withWork = reports
      .filter((r) => r.roundTrips > 0)
      .map((r) => r)
      .slice(-1);
    void withWork;
    results.incremental = {
      changed: {
        quickbooksCustomers: editedCustomers.length,
        quickbooksItems: editedItems.length,
        dataverseAccounts: editedAccounts,
        dataverseNewSalesOrders: newOrders.length,
      },
      ...incremental.m,
      pollCycle: incremental.value,
      throughput: await throughput(incremental.m.from, incremental.m.to),
      failures: incrementalFailures,
      dataverseUtilisation: incrementalUse,
    };

    // ---- 3. idle ----------------------------------------------------------------------------------------------
    const sessionTimes: number[] = [];
    const idle = await measure('idle', async () => {
      const t = performance.now();
      const r = await cycle('idle');
      sessionTimes.push(performance.now() - t);
      return r;
    });
    results.idle = { ...idle.m, pollCycle: idle.value };

    // ---- 4. webhook latency ------------------------------------------------------------------------------------
    await sleep(windowSeconds * 1000);
    const starter = temporalRecordSyncStarter(env.client, taskQueue, { quietPeriodMs });
    const created = new Map<string, number>();
    const webhook = await measure('webhook', async () => {
      let stop = false;
      // The Web Connector on a short timer (1 s, start to start), as in production but faster than the QWC's minimum.
      const timer = (async () => {
        while (!stop) {
          const t = Date.now();
          await session(['east']);
          await sleep(Math.max(0, 1000 - (Date.now() - t)));
        }
      })();
      for (let i = 0; i < webhookOrders; i++) {
        const [id] = seedGeneratedSalesOrders(sandbox, 1, LINES_PER_ORDER, 10_000 + i);
        if (!id) continue;
        created.set(id, Date.now());
        await starter(
          summarizeDataverseChange(
            {
              messageName: 'Create',
              entityName: 'salesorder',
              entityId: id,
              correlationId: `bench-${i}`,
              operationId: `bench-op-${i}`,
              attributes: {},
              sharedVariables: {},
              depth: 1,
            },
            false,
          ),
          'east',
        );
        await sleep(370); // spread over sessions: orders arrive one by one, not as one burst
      }
      for (let i = 0; i < 600 && (await recordsRunning()) > 0; i++) await sleep(200);
      stop = true;
      await timer;
    });
    const enqueued = await enqueueTimes(env.client, 'east', webhook.m.from);
    const toQueued: number[] = [];
    const toInvoiceAddQueued: number[] = [];
    const toLanded: number[] = [];
    for (const [id, t0] of created) {
      const mine = enqueued.filter((e) => e.requester === dataverseRecordWorkflowId('salesorder', id));
      const first = mine[0];
      const add = mine.find((e) => e.types.includes('InvoiceAdd'));
      if (first) toQueued.push(first.atMs - t0);
      if (add) toInvoiceAddQueued.push(add.atMs - t0);
      const l = landed.get(id.toLowerCase());
      if (l) toLanded.push(l - t0);
    }
    const stats = (values: number[]) => {
      const s = [...values].sort((a, b) => a - b);
      return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), max: s.at(-1) ?? NaN };
    };
    results.webhook = {
      method:
        "signal-with-start through the gateway's own temporalRecordSyncStarter (src/gateway/webhooks/recordSyncStarter.ts), " +
        `quietPeriodMs ${quietPeriodMs} (production default 30,000), Web Connector every 1 s; queued = the order's ` +
        'workflow signalled its batch into qbfile/east (event time in that history); landed = QuickBooks answered the ' +
        'InvoiceAdd with status 0',
      orders: created.size,
      ...webhook.m,
      latencyMs: {
        toFirstRequestQueued: stats(toQueued),
        toInvoiceAddQueued: stats(toInvoiceAddQueued),
        toInvoiceInQuickBooks: stats(toLanded),
      },
    };
  } finally {
    worker.shutdown();
    await running;
    await quickbooks.gateway.close();
    await dataverse.close();
    tokens.close();
    await sandbox.close();
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
  void DataverseThrottledError;
  void NoGovernor;
  void qbListKey;
  void ENTITY_SETS;
  void west;
  const out = {
    machine: {
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      cores: os.cpus().length,
      totalMemoryGiB: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
    },
    date: new Date().toISOString(),
    scale,
    limits: {
      dataverse: { ...limits, budgetRequestsPerSecond: round(requestsPerWindow / windowSeconds) },
      governor: governorOptions,
    },
    setupSeconds,
    ...results,
    memory: {
      process: 'worker, gateway, Web Connector simulators and both sandboxes share this one process',
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 1),
      sampledPeakRssMiB: round(Math.max(...rssSamples) / 2 ** 20, 1),
    },
    totalSeconds: round((Date.now() - totalStart) / 1000, 1),
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  log('wrote bench/results/latest.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
