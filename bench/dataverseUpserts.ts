/**
 * bench:dataverse — how much of a Dataverse service-protection budget the connector's rate governor turns into work,
 * and whether it does so without being throttled. Real parts end to end: the Dataverse sandbox over HTTPS with its
 * identity provider, msal-node tokens, the Web API client, provisioning (so the alternate keys exist), and upserts of
 * generated accounts by (company file, ListID) from many concurrent workers across two connections that share one
 * application user and therefore one governor. The limits are scaled down (default 600 requests / 30 s, 52
 * concurrent) so a run spanning several windows takes minutes, not hours.
 *
 *   npm run bench:dataverse [-- --rows N] [--window-seconds S] [--requests-per-window R] [--concurrent C]
 *                           [--workers W] [--governor-concurrency G] [--safety-margin M]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import {
  DataverseThrottledError,
  ENTITY_SETS,
  COMPANY_FILE_COLUMN,
  QB_LIST_ID_COLUMN,
  CustomerTypeCode,
  RateGovernor,
  provisionDataverse,
  qbListKey,
  type RateGovernorOptions,
} from '../src/dataverse';
import type { DataverseConnection } from '../src/dataverse/connect';
import { startDataverseSandbox } from '../src/sandbox/dataverse/server';
import { connectToSandbox } from '../test/support/dataverseSandbox';

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}

const windowSeconds = argValue('--window-seconds', 30);
const requestsPerWindow = Math.round(argValue('--requests-per-window', 600));
const concurrentLimit = Math.round(argValue('--concurrent', 52));
// Enough rows for about five windows at the default limits: one window alone says nothing about pacing.
const rows = Math.round(argValue('--rows', Math.round(requestsPerWindow * 4.5)));
const workers = Math.round(argValue('--workers', 64));
// Below the server's concurrency limit: a request the client has finished with may not be released server-side yet.
const governorConcurrency = Math.round(argValue('--governor-concurrency', Math.max(1, concurrentLimit - 4)));
const safetyMargin = argValue('--safety-margin', 0.95);
const TARGET_UTILISATION = 0.9;
const CONNECTIONS = ['east', 'west'] as const;

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

/** The shared governor, recording when each request really started and how long it held its slot. */
class MeasuredGovernor extends RateGovernor {
  readonly requestStarts: number[] = [];
  readonly requestLatenciesMs: number[] = [];

  constructor(options: RateGovernorOptions) {
    super(options);
  }

  override run<T>(fn: () => Promise<T>): Promise<T> {
    return super.run(async () => {
      const t0 = performance.now();
      this.requestStarts.push(Date.now());
      try {
        return await fn();
      } finally {
        this.requestLatenciesMs.push(performance.now() - t0);
      }
    });
  }
}

/** Most starts inside any window of `windowMs`, and how many fell in the first `k` whole windows after `from`. */
function windowCounts(
  starts: readonly number[],
  windowMs: number,
  from: number,
  until: number,
): { peak: number; wholeWindows: number; inWholeWindows: number } {
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < starts.length; hi += 1) {
    while ((starts[lo] ?? 0) <= (starts[hi] ?? 0) - windowMs) lo += 1;
    peak = Math.max(peak, hi - lo + 1);
  }
  const wholeWindows = Math.floor((until - from) / windowMs);
  const end = from + wholeWindows * windowMs;
  const inWholeWindows = starts.filter((t) => t >= from && t < end).length;
  return { peak, wholeWindows, inWholeWindows };
}

type Connected = DataverseConnection;

/** ListIDs shaped like QuickBooks' own (`80000001-1700000000`). */
const listIdOf = (i: number): string => `${(0x80000000 + i).toString(16).toUpperCase()}-1700000000`;

async function main(): Promise<void> {
  const log = pino({ level: 'silent' });
  const dataDir = mkdtempSync(join(os.tmpdir(), 'bench-dataverse-'));
  const limits = { requestsPerWindow, windowSeconds, concurrent: concurrentLimit };
  const sandbox = await startDataverseSandbox({
    port: 0,
    dataDir,
    seed: false,
    limits,
    // Longer than any run: token renewal is covered by tests, not by this measurement.
    tokenLifetimeSeconds: 3600,
    keyActivationDelayMs: 50,
  });
  const governor = new MeasuredGovernor({
    maxConcurrent: governorConcurrency,
    requestsPerWindow,
    windowMs: windowSeconds * 1000,
    safetyMargin,
  });
  const connected = CONNECTIONS.map((c) => connectToSandbox(sandbox, c, { governor }));
  // Rows alternate between the company files, as two offices' customers would.
  const connectionOf = (i: number): Connected => {
    const found = connected[i % connected.length];
    if (!found) throw new Error('no connection');
    return found;
  };
  try {
    const first = connected[0];
    if (!first) throw new Error('no connection');
    const provisionStarted = Date.now();
    let report = await provisionDataverse(first.client, { log });
    while (Object.keys(report.keysNotActive).length > 0) {
      await new Promise((r) => setTimeout(r, 100));
      report = await provisionDataverse(first.client, { log });
    }
    const provisioningRequests = governor.requestStarts.length;
    const provisioningSeconds = round((Date.now() - provisionStarted) / 1000, 1);
    console.log(`[bench] provisioned (${provisioningRequests} requests); upserting ${rows} accounts`);

    const before = sandbox.stats();
    const upsertStartIndex = governor.requestStarts.length;
    const latencyStartIndex = governor.requestLatenciesMs.length;
    let next = 0;
    let created = 0;
    let updated = 0;
    const failures: Record<string, number> = {};
    let failedByThrottling = 0;
    const phaseStart = Date.now();
    let lastReport = phaseStart;

    const worker = async (): Promise<void> => {
      for (let i = next++; i < rows; i = next++) {
        const listId = listIdOf(i);
        const target = connectionOf(i);
        try {
          const result = await target.client.upsertByKey(
            ENTITY_SETS.account,
            qbListKey(target.client.connection, listId),
            {
              name: `Bench Customer ${String(i).padStart(6, '0')}`,
              accountnumber: `B${i}`,
              telephone1: `+1 555 ${String(i % 10_000).padStart(4, '0')}`,
              customertypecode: CustomerTypeCode.Customer,
            },
          );
          if (result.created === false) updated += 1;
          else created += 1;
        } catch (error) {
          const kind = error instanceof Error ? error.constructor.name : 'unknown';
          failures[kind] = (failures[kind] ?? 0) + 1;
          if (error instanceof DataverseThrottledError) failedByThrottling += 1;
        }
        if (Date.now() - lastReport >= 10_000) {
          lastReport = Date.now();
          const s = governor.snapshot();
          console.log(
            `[bench] ${created + updated}/${rows} rows, ${governor.requestStarts.length - upsertStartIndex} requests, ` +
              `${s.waiting} waiting, pace ${round(s.currentPacePerSecond, 1)}/s`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, () => worker()));
    const phaseEnd = Date.now();
    const after = sandbox.stats();

    // Every row must be there exactly once, under its own key.
    const accounts = sandbox.records.tableBySet(ENTITY_SETS.account);
    let present = 0;
    for (let i = 0; i < rows; i += 1) {
      const found = sandbox.records.find(accounts, [
        [COMPANY_FILE_COLUMN, connectionOf(i).client.connection],
        [QB_LIST_ID_COLUMN, listIdOf(i)],
      ]);
      if (found) present += 1;
    }

    const starts = governor.requestStarts.slice(upsertStartIndex);
    const latencies = governor.requestLatenciesMs.slice(latencyStartIndex).sort((a, b) => a - b);
    const firstStart = starts[0] ?? phaseStart;
    const seconds = (phaseEnd - firstStart) / 1000;
    const windowMs = windowSeconds * 1000;
    const counts = windowCounts(governor.requestStarts, windowMs, firstStart, phaseEnd);
    const budgetPerSecond = requestsPerWindow / windowSeconds;
    const utilisation =
      counts.wholeWindows > 0
        ? counts.inWholeWindows / (counts.wholeWindows * requestsPerWindow)
        : starts.length / seconds / budgetPerSecond;

    const result = {
      machine: {
        cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
        cores: os.cpus().length,
        totalMemoryGiB: round(os.totalmem() / 2 ** 30, 1),
        os: `${os.type()} ${os.release()}`,
        node: process.version,
      },
      date: new Date().toISOString(),
      limits: {
        method: 'Dataverse sandbox service protection, per application user, sliding window (scaled down)',
        requestsPerWindow,
        windowSeconds,
        concurrent: concurrentLimit,
        budgetRequestsPerSecond: round(budgetPerSecond),
      },
      governor: {
        requestsPerWindow,
        windowSeconds,
        safetyMargin,
        budget: governor.budget,
        maxConcurrent: governor.maxConcurrent,
        shared: `one governor for ${CONNECTIONS.length} connections and ${workers} workers`,
      },
      setup: {
        rows,
        workers,
        connections: CONNECTIONS.length,
        provisioningRequests,
        provisioningSeconds,
      },
      upserts: {
        rowsSucceeded: created + updated,
        created,
        updated,
        rowsFailed: Object.values(failures).reduce((a, b) => a + b, 0),
        rowsFailedByThrottling: failedByThrottling,
        failures,
        rowsPresentAfterwards: present,
        seconds: round(seconds, 1),
        rowsPerSecond: round((created + updated) / seconds, 2),
      },
      requests: {
        sent: starts.length,
        seenBySandbox: after.requests - before.requests,
        throttled429: after.throttled - before.throttled,
        throttleReportsToGovernor: governor.snapshot().throttledResponses,
        requestsPerSecond: round(starts.length / seconds, 2),
        peakInAnySlidingWindow: counts.peak,
        latencyMs: {
          p50: round(percentile(latencies, 50), 1),
          p95: round(percentile(latencies, 95), 1),
          max: round(latencies.at(-1) ?? NaN, 1),
        },
      },
      utilisation: {
        achievedOverBudget: round(utilisation),
        method:
          counts.wholeWindows > 0
            ? `requests started in the ${counts.wholeWindows} whole windows after the first upsert ÷ (${counts.wholeWindows} × ${requestsPerWindow})`
            : 'requests per second over the run ÷ budget per second (run shorter than one window)',
        wholeWindows: counts.wholeWindows,
        requestsInWholeWindows: counts.inWholeWindows,
        wholeRunRateOverBudget: round(starts.length / seconds / budgetPerSecond),
        target: TARGET_UTILISATION,
        met: utilisation >= TARGET_UTILISATION && failedByThrottling === 0,
      },
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/dataverse.json', `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      JSON.stringify({ upserts: result.upserts, requests: result.requests, utilisation: result.utilisation }, null, 2),
    );
    console.log('[bench] wrote bench/results/dataverse.json');
    if (!result.utilisation.met || present !== rows) process.exitCode = 1;
  } finally {
    for (const c of connected) await c.close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
