/**
 * bench:qb — how many qbXML requests the companyFile queue packs into one QBWC round trip, measured end to end: real
 * Temporal dev server, the fixture worker, the real gateway (SOAP) and the Web Connector simulator driving in-memory
 * company files. Compares with a client that sends one request per round trip, counted from the same run and
 * measured for real on a smaller sample (a company file whose queue is limited to one request per round trip).
 *
 *   npm run bench:qb [-- --scale <f>] [--naive-sample <n>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CustomerMod, CustomerRet, QbRecord } from '../src/qbxml/requests';
import { seedGeneratedCustomers } from '../src/sandbox/quickbooks/benchmarkData';
import type { CompanyFileSimulator } from '../src/sandbox/quickbooks/companyFile';
import type { WebConnectorRunReport } from '../src/sandbox/webConnector/webConnectorSimulator';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  type CompanyFileTotals,
} from '../src/workflows/companyFile/messages';
import type { CompanyFileInput } from '../src/workflows/companyFile/input';
import { qbxmlProbe, quickbooksListRead } from '../test/fixtures/workflows';
import {
  driveSessions,
  startFixtureWorker,
  startQuickBooksStack,
  type QuickBooksStack,
} from '../test/support/quickbooksStack';
import { startTestTemporal } from '../test/support/temporal';

const taskQueue = 'bench-qbwc-round-trips';
const PAGE_SIZE = 100;
const MODS_PER_WORKFLOW = 100;
const TARGET_REDUCTION = 10;

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}

const scale = argValue('--scale', 1);
const naiveSample = Math.round(argValue('--naive-sample', 100));
const customerCount = Math.max(1, Math.round(1000 * scale));

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
const seconds = (startMs: number): number => round((Date.now() - startMs) / 1000, 1);
const per1000 = (roundTrips: number, records: number): number => round((1000 * roundTrips) / records);

interface SessionSums {
  sessions: number;
  roundTrips: number;
  requestsSent: number;
  outcomes: Record<string, number>;
}

function sum(reports: WebConnectorRunReport[]): SessionSums {
  const outcomes: Record<string, number> = {};
  for (const r of reports) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return {
    sessions: reports.length,
    roundTrips: reports.reduce((n, r) => n + r.roundTrips, 0),
    requestsSent: reports.reduce((n, r) => n + r.requestsSent, 0),
    outcomes,
  };
}

/** The companyFile workflow's own counters, as a cross-check of what the Web Connector simulator reports. */
async function totals(env: TestWorkflowEnvironment, connection: string): Promise<CompanyFileTotals> {
  const status = await env.client.workflow.getHandle(companyFileWorkflowId(connection)).query(companyFileStatusQuery);
  return status.totals;
}

function delta(after: CompanyFileTotals, before: CompanyFileTotals | undefined): CompanyFileTotals {
  return {
    sessions: after.sessions - (before?.sessions ?? 0),
    roundTrips: after.roundTrips - (before?.roundTrips ?? 0),
    requestsSent: after.requestsSent - (before?.requestsSent ?? 0),
    resultsRouted: after.resultsRouted - (before?.resultsRouted ?? 0),
  };
}

const asCustomers = (records: QbRecord[]): CustomerRet[] =>
  records.filter((r): r is CustomerRet => (r as { kind?: string }).kind === 'Customer');

async function readAll(
  env: TestWorkflowEnvironment,
  stack: QuickBooksStack,
  connection: string,
): Promise<{ customers: CustomerRet[]; pages: number; sums: SessionSums }> {
  const handle = await env.client.workflow.start(quickbooksListRead, {
    workflowId: `bench-read-${connection}-${Date.now()}`,
    taskQueue,
    args: [{ connection, list: 'Customer', pageSize: PAGE_SIZE }],
  });
  const reports: WebConnectorRunReport[] = [];
  const result = await driveSessions(stack.connector(connection), handle.result(), reports);
  return { customers: asCustomers(result.records), pages: result.pages, sums: sum(reports) };
}

const newPhone = (i: number): string => `B-${i}`;

interface ModifyRun {
  workflows: number;
  sums: SessionSums;
  /** ListID → count of CustomerMod responses with status 0. */
  succeeded: Map<string, number>;
  failed: number;
}

/** Changes every customer's phone with CustomerMod requests, `perWorkflow` per qbxmlProbe workflow. */
async function modifyAll(
  env: TestWorkflowEnvironment,
  stack: QuickBooksStack,
  connection: string,
  customers: CustomerRet[],
  perWorkflow: number,
): Promise<ModifyRun> {
  const runId = Date.now();
  const handles = [];
  for (let start = 0; start < customers.length; start += perWorkflow) {
    const requests: CustomerMod[] = customers.slice(start, start + perWorkflow).map((c, j) => ({
      type: 'CustomerMod',
      requestId: '',
      fields: { listId: c.listId, editSequence: c.editSequence, phone: newPhone(start + j) },
    }));
    handles.push(
      await env.client.workflow.start(qbxmlProbe, {
        workflowId: `bench-mod-${connection}-${runId}-${start}`,
        taskQueue,
        args: [connection, requests],
      }),
    );
  }
  const reports: WebConnectorRunReport[] = [];
  const results = await driveSessions(
    stack.connector(connection),
    Promise.all(handles.map((h) => h.result())),
    reports,
  );
  const succeeded = new Map<string, number>();
  let failed = 0;
  results.flat().forEach((outcome, i) => {
    const listId = customers[i]!.listId;
    if (outcome.kind === 'response' && outcome.response.statusCode === 0) {
      succeeded.set(listId, (succeeded.get(listId) ?? 0) + 1);
    } else {
      failed += 1;
    }
  });
  return { workflows: handles.length, sums: sum(reports), succeeded, failed };
}

/** Every customer carries the new phone, a new EditSequence, and exactly one successful CustomerMod. */
function verify(
  file: CompanyFileSimulator,
  customers: CustomerRet[],
  run: ModifyRun,
): { modifiedExactlyOnce: number; notModified: number; failedMods: number; ok: boolean } {
  let once = 0;
  let not = 0;
  customers.forEach((before, i) => {
    const now = file.store.list(before.listId);
    const phone = now?.fields.find((f) => f.n === 'Phone')?.t;
    const changed = now !== undefined && now.editSequence !== before.editSequence && phone === newPhone(i);
    if (changed && run.succeeded.get(before.listId) === 1) once += 1;
    else not += 1;
  });
  return { modifiedExactlyOnce: once, notModified: not, failedMods: run.failed, ok: not === 0 && run.failed === 0 };
}

async function main(): Promise<void> {
  const wall: Record<string, number> = {};
  const total = Date.now();
  let t = Date.now();
  const env = await startTestTemporal();
  const worker = await startFixtureWorker(env, taskQueue);
  const running = worker.run();
  const stack = await startQuickBooksStack(env, taskQueue, { callTimeoutMs: 10_000 });
  wall.setup = seconds(t);

  try {
    // The naive company file: its queue hands QBWC one request per round trip. Started before any session for it,
    // so the gateway's and the activity's start-if-missing find it running with these limits.
    const naiveInput: CompanyFileInput = { connection: 'west', limits: { maxRequestsPerRoundTrip: 1 } };
    await env.client.workflow.start('companyFile', {
      workflowId: companyFileWorkflowId('west'),
      taskQueue,
      args: [naiveInput],
    });

    t = Date.now();
    const east = stack.files.east!;
    const west = stack.files.west!;
    const eastBefore = east.count('Customer');
    seedGeneratedCustomers(east, customerCount, 1);
    const westBefore = west.count('Customer');
    seedGeneratedCustomers(west, naiveSample, 2);
    const eastCustomers = east.count('Customer');
    wall.seed = seconds(t);

    // 1. READ
    t = Date.now();
    const read = await readAll(env, stack, 'east');
    wall.read = seconds(t);
    const afterRead = await totals(env, 'east');
    const readRecords = read.customers.length;

    // 2. MODIFY, from the ListID/EditSequence the read returned.
    t = Date.now();
    const mod = await modifyAll(env, stack, 'east', read.customers, MODS_PER_WORKFLOW);
    wall.modify = seconds(t);
    const afterMod = await totals(env, 'east');
    const check = verify(east, read.customers, mod);

    // 3. NAIVE, measured: the same read and modify on `west`, one request per round trip.
    t = Date.now();
    const naiveRead = await readAll(env, stack, 'west');
    const naiveMod = await modifyAll(env, stack, 'west', naiveRead.customers, MODS_PER_WORKFLOW);
    wall.naive = seconds(t);
    const naiveTotals = await totals(env, 'west');
    const naiveCheck = verify(west, naiveRead.customers, naiveMod);

    // NAIVE, counted: a one-request-per-round-trip client needs one round trip per request the batched run sent
    // (reads: one iterator page each; mods: one each).
    const countedRead = read.sums.requestsSent;
    const countedMod = mod.sums.requestsSent;
    const batchedTotal = read.sums.roundTrips + mod.sums.roundTrips;
    const countedTotal = countedRead + countedMod;
    const measuredModPer1000 = per1000(naiveMod.sums.roundTrips, naiveRead.customers.length);
    const batchedModPer1000 = per1000(mod.sums.roundTrips, readRecords);
    const reduction = round(countedTotal / batchedTotal);

    const results = {
      machine: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      date: new Date().toISOString(),
      scale,
      setup: {
        pageSize: PAGE_SIZE,
        modsPerWorkflow: MODS_PER_WORKFLOW,
        seededCustomers: customerCount,
        eastCustomers: { before: eastBefore, after: eastCustomers },
        westCustomers: { before: westBefore, after: west.count('Customer') },
      },
      read: {
        customers: readRecords,
        pages: read.pages,
        sessions: read.sums.sessions,
        roundTrips: read.sums.roundTrips,
        requestsSent: read.sums.requestsSent,
        requestsPerRoundTrip: round(read.sums.requestsSent / read.sums.roundTrips),
        roundTripsPer1000Customers: per1000(read.sums.roundTrips, readRecords),
        sessionOutcomes: read.sums.outcomes,
        companyFileTotals: afterRead,
      },
      modify: {
        customers: read.customers.length,
        workflows: mod.workflows,
        sessions: mod.sums.sessions,
        roundTrips: mod.sums.roundTrips,
        requestsSent: mod.sums.requestsSent,
        requestsPerRoundTrip: round(mod.sums.requestsSent / mod.sums.roundTrips),
        roundTripsPer1000Customers: batchedModPer1000,
        sessionOutcomes: mod.sums.outcomes,
        companyFileTotals: delta(afterMod, afterRead),
        verification: check,
      },
      naive: {
        counted: {
          method: 'one round trip per qbXML request the batched run sent (same data)',
          readRoundTrips: countedRead,
          modifyRoundTrips: countedMod,
          totalRoundTrips: countedTotal,
          readRoundTripsPer1000Customers: per1000(countedRead, readRecords),
          modifyRoundTripsPer1000Customers: per1000(countedMod, read.customers.length),
        },
        measured: {
          method: "company file 'west' with companyFile limits { maxRequestsPerRoundTrip: 1 }",
          customers: naiveRead.customers.length,
          read: {
            pages: naiveRead.pages,
            roundTrips: naiveRead.sums.roundTrips,
            requestsSent: naiveRead.sums.requestsSent,
          },
          modify: {
            workflows: naiveMod.workflows,
            sessions: naiveMod.sums.sessions,
            roundTrips: naiveMod.sums.roundTrips,
            requestsSent: naiveMod.sums.requestsSent,
            requestsPerRoundTrip: round(naiveMod.sums.requestsSent / naiveMod.sums.roundTrips),
            roundTripsPer1000Customers: measuredModPer1000,
            verification: naiveCheck,
          },
          companyFileTotals: naiveTotals,
        },
      },
      ratios: {
        roundTripsReduction: reduction,
        basis: 'counted naive round trips / batched round trips, read + modify together',
        readReduction: round(countedRead / read.sums.roundTrips),
        modifyReduction: round(countedMod / mod.sums.roundTrips),
        modifyReductionMeasured: round(measuredModPer1000 / batchedModPer1000),
        target: TARGET_REDUCTION,
        met: reduction >= TARGET_REDUCTION,
      },
      wallSeconds: { ...wall, total: seconds(total) },
    };

    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'qb.json'), `${JSON.stringify(results, null, 2)}\n`);

    const row = (cells: (string | number)[]): string =>
      cells.map((c, i) => (i === 0 ? String(c).padEnd(26) : String(c).padStart(11))).join('');
    console.log(
      `\nbench:qb — ${results.machine}, ${results.cores} cores, Node ${results.node}, scale ${scale}` +
        ` (${readRecords} customers)\n`,
    );
    console.log(row(['', 'round trips', 'requests', 'req/trip', 'trips/1k', 'seconds']));
    console.log(
      row([
        'read (batched)',
        read.sums.roundTrips,
        read.sums.requestsSent,
        results.read.requestsPerRoundTrip,
        results.read.roundTripsPer1000Customers,
        wall.read ?? 0,
      ]),
    );
    console.log(
      row([
        'modify (batched)',
        mod.sums.roundTrips,
        mod.sums.requestsSent,
        results.modify.requestsPerRoundTrip,
        batchedModPer1000,
        wall.modify ?? 0,
      ]),
    );
    console.log(
      row([
        'read (naive, counted)',
        countedRead,
        countedRead,
        1,
        results.naive.counted.readRoundTripsPer1000Customers,
        '-',
      ]),
    );
    console.log(
      row([
        'modify (naive, counted)',
        countedMod,
        countedMod,
        1,
        results.naive.counted.modifyRoundTripsPer1000Customers,
        '-',
      ]),
    );
    console.log(
      row([
        `modify (naive, measured)`,
        naiveMod.sums.roundTrips,
        naiveMod.sums.requestsSent,
        results.naive.measured.modify.requestsPerRoundTrip,
        measuredModPer1000,
        wall.naive ?? 0,
      ]),
    );
    console.log(
      `\nround-trip reduction (read+modify, naive/batched): ${reduction}× — target ${TARGET_REDUCTION}×, ` +
        `${results.ratios.met ? 'met' : 'NOT met'} (read ${results.ratios.readReduction}×, modify ` +
        `${results.ratios.modifyReduction}× counted / ${results.ratios.modifyReductionMeasured}× measured)`,
    );
    console.log(
      `verification: east ${check.modifiedExactlyOnce}/${read.customers.length} modified exactly once` +
        ` (${check.failedMods} failed mods); west ${naiveCheck.modifiedExactlyOnce}/${naiveRead.customers.length}`,
    );
    console.log(`wall seconds: ${JSON.stringify(results.wallSeconds)}; written to bench/results/qb.json`);
  } finally {
    await stack.gateway.close();
    worker.shutdown();
    await running;
    await env.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
