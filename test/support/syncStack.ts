import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { sandboxSyncSettings, type SyncSettings } from '../../src/config/syncSettings';
import { insertChoiceOptions } from '../../src/dataverse/choiceOptions';
import { type DataverseClient } from '../../src/dataverse/client';
import { type DataverseConnection } from '../../src/dataverse/connect';
import { connectToSandbox } from './dataverseSandbox';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { demoCompanyChoiceNames, seedDemoCompany } from '../../src/sandbox/quickbooks/demoCompany';
import type { WebConnectorSimulator } from '../../src/sandbox/webConnector/webConnectorSimulator';
import type { ReconcileReport } from '../../src/reconcile/report';
import { pollCycle, type PollCycleInput, type PollCycleResult } from '../../src/workflows/pollCycle';
import { reconcile } from '../../src/workflows/reconcile';
import { companyFileProcessor, startQuickBooksStack, type QuickBooksStack } from './quickbooksStack';

/**
 * The whole connector on the sandboxes, in one test process: a real Temporal dev server, the Dataverse sandbox over
 * HTTPS with its identity provider (seeded demo organisation, connector columns provisioned), the east and west
 * QuickBooks company files (seeded demo companies) behind the real gateway, a Web Connector simulator per file, and a
 * worker running every workflow and activity.
 */
export interface SyncStack {
  env: TestWorkflowEnvironment;
  dataverseSandbox: DataverseSandbox;
  dataverse: DataverseClient;
  quickbooks: QuickBooksStack;
  connectors: Record<string, WebConnectorSimulator>;
  settings: Map<string, SyncSettings>;
  hooks: StackHooks;
  /** Runs `reconcile` for a connection, driving its QBWC session. */
  reconcile(connection: string): Promise<ReconcileReport>;
  /**
   * Runs one poll cycle of `connection` to completion, driving QBWC sessions while it waits; `options` are the cycle's
   * own limits (a small history limit and page size make it continue as new mid-read).
   */
  cycle(
    connection: string,
    options?: Pick<PollCycleInput, 'historyLimit' | 'pageSize' | 'overlapIdsAtMost' | 'carriedFactsBytesAtMost'>,
  ): Promise<PollCycleResult>;
  /**
   * Drives QBWC sessions until no record workflow is running any more; fails after `maxSessions` sessions that carried
   * qbXML, or when runs wait with nothing sent to QuickBooks for longer than any timer of theirs.
   */
  settle(maxSessions?: number): Promise<void>;
  /** Every record workflow run so far, newest first. */
  recordRuns(query?: string): Promise<WorkflowExecutionInfo[]>;
  restartWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Where tests act at an exact point of a QBWC session, on the company file of `connection`. */
interface StackHooks {
  /** Right before QuickBooks takes a message of the connector's (a person editing meanwhile). */
  beforeProcess?: (connection: string, requestXml: string) => Promise<void>;
  /** Once QuickBooks has applied a message, before its answer goes back (a session cut after a write). */
  afterProcess?: (connection: string, requestXml: string) => Promise<void>;
}

/**
 * How long `settle` goes on while record runs wait and QuickBooks is sent nothing: longer than any timer a test's runs
 * wait on (the 30-second quiet period of a row synced afresh), short of the test runner's limit.
 */
const SETTLE_WITHOUT_REQUESTS_MS = 90_000;

export async function startSyncStack(
  env: TestWorkflowEnvironment,
  options: { taskQueue?: string; seedDataverse?: boolean } = {},
): Promise<SyncStack> {
  const taskQueue = options.taskQueue ?? 'sync-e2e';
  const dir = mkdtempSync(join(tmpdir(), 'qbsync-e2e-'));
  const dataverseSandbox = await startDataverseSandbox({
    port: 0,
    dataDir: join(dir, 'dataverse'),
    seed: options.seedDataverse ?? true,
  });
  // Provisioning runs as an administrator; the sync (the worker's activities) only with the least-privilege role
  // docs/deployment.md gives, as in a real organisation. Tests act on Dynamics as a person would, through `dataverse`.
  const connection: DataverseConnection = connectToSandbox(dataverseSandbox, 'e2e');
  const syncConnection: DataverseConnection = connectToSandbox(dataverseSandbox, 'e2e', {}, 'connector');
  await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
  // The options the demo companies' terms and customer types need, added at provisioning as an operator would.
  for (const office of ['east', 'west'] as const) {
    const names = demoCompanyChoiceNames(office);
    await insertChoiceOptions(connection.client, 'terms', names.terms);
    await insertChoiceOptions(connection.client, 'customerTypes', names.customerTypes);
  }
  await new Promise((r) => setTimeout(r, 300)); // alternate-key indexes turn Active shortly after provisioning

  // A short gateway call timeout: with the worker stopped, a QBWC call fails fast instead of hanging the session.
  const quickbooks = await startQuickBooksStack(env, taskQueue, { callTimeoutMs: 3000 });
  for (const office of ['east', 'west'] as const) seedDemoCompany(quickbooks.files[office]!, { office });
  // Tests hook in here to act at an exact point of a QBWC session (e.g. stop the worker once QuickBooks has applied
  // an InvoiceAdd but before its answer is delivered).
  const hooks: StackHooks = {};
  const processorFor = (name: 'east' | 'west') =>
    companyFileProcessor(
      quickbooks.files[name]!,
      async (xml) => {
        if (hooks.afterProcess) await hooks.afterProcess(name, xml);
      },
      async (xml) => {
        if (hooks.beforeProcess) await hooks.beforeProcess(name, xml);
      },
    );
  const connectors = {
    east: quickbooks.connector('east', processorFor('east')),
    west: quickbooks.connector('west', processorFor('west')),
  };
  const settings = new Map(['east', 'west'].map((c) => [c, sandboxSyncSettings(c)]));
  // Tests create an order and sync it within the second; the quiet period a person's edits need (30 s) would only
  // slow them down. The wait itself is tested in salesOrderToInvoice.temporal.test.ts.
  for (const s of settings.values()) s.invoices.quietSeconds = 1;

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async (): Promise<void> => {
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../fixtures/workflows'),
      activities: createActivities({ client: env.client, taskQueue, dataverse: syncConnection.client, settings }),
    });
    running = worker.run();
  };
  const stopWorker = async (): Promise<void> => {
    worker?.shutdown();
    await running;
    worker = undefined;
  };
  await startWorker();

  const runningRecords = async (): Promise<number> => {
    let n = 0;
    for await (const w of env.client.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
      if (w.workflowId.startsWith('d365/') || w.workflowId.startsWith('qb/') || w.workflowId.startsWith('poll/')) n++;
    }
    return n;
  };
  /** One Web Connector session on each company file; the qbXML requests QuickBooks received in them. */
  const session = async (): Promise<number> => {
    let requests = 0;
    for (const c of Object.values(connectors)) requests += (await c.runSession()).requestsSent;
    return requests;
  };

  /** A workflow task that keeps failing (a bug, not a business failure) would otherwise look like a hang. */
  const failOnWorkflowTaskError = async (workflowId: string): Promise<void> => {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const failed = [...(history.events ?? [])]
      .reverse()
      .find((e) => e.workflowTaskFailedEventAttributes?.failure?.message);
    if (failed) {
      const failure = failed.workflowTaskFailedEventAttributes!.failure!;
      throw new Error(`${workflowId}: workflow task failed: ${failure.message}\n${failure.stackTrace ?? ''}`);
    }
  };

  const driveUntil = async <T>(name: string, workflowId: string, result: Promise<T>): Promise<T> => {
    let settled = false;
    const done = result.finally(() => {
      settled = true;
    });
    done.catch(() => undefined);
    for (let i = 0; i < 120 && !settled; i++) {
      await connectors[name as 'east' | 'west']!.runSession();
      if (!settled) await new Promise((r) => setTimeout(r, 200));
      if (i % 10 === 9) await failOnWorkflowTaskError(workflowId);
    }
    return done;
  };

  const stack: SyncStack = {
    env,
    dataverseSandbox,
    dataverse: connection.client,
    quickbooks,
    connectors,
    settings,
    hooks,
    async reconcile(name) {
      const handle = await env.client.workflow.start(reconcile, {
        workflowId: `reconcile/${name}/${Date.now()}`,
        taskQueue,
        args: [{ connection: name }],
      });
      return driveUntil(name, handle.workflowId, handle.result());
    },
    async cycle(name, options = {}) {
      const handle = await env.client.workflow.start(pollCycle, {
        workflowId: `poll/${name}`,
        taskQueue,
        args: [{ connection: name, ...options }],
      });
      return driveUntil(name, handle.workflowId, handle.result());
    },
    async settle(maxSessions = 40) {
      // Temporal's list of runs lags behind the runs themselves on a loaded machine: a record run a poll started a
      // moment ago may not be listed yet. So none running is believed only when seen twice, a session apart.
      // The budget is sessions that carried qbXML. A run waiting out a timer (a row's 30-second quiet period before
      // it is synced afresh) needs no session, and sessions with nothing to send are quick: on an idle machine they
      // spent a count of all sessions before the timer fired (a CI run of rapidEdits failed so). Such waits are
      // bounded in time instead.
      let idle = 0;
      let sessionsWithRequests = 0;
      let lastRequestsAt = Date.now();
      for (;;) {
        idle = (await runningRecords()) === 0 ? idle + 1 : 0;
        if (idle === 2) return;
        if ((await session()) > 0) {
          sessionsWithRequests += 1;
          lastRequestsAt = Date.now();
          if (sessionsWithRequests >= maxSessions) {
            throw new Error(`record workflows still running after ${maxSessions} QBWC sessions that carried qbXML`);
          }
        } else if (Date.now() - lastRequestsAt > SETTLE_WITHOUT_REQUESTS_MS) {
          throw new Error(
            `record workflows still running, and nothing sent to QuickBooks for ${SETTLE_WITHOUT_REQUESTS_MS / 1000} s`,
          );
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    async recordRuns(query) {
      const runs: WorkflowExecutionInfo[] = [];
      for await (const w of env.client.workflow.list(query ? { query } : {})) {
        if (w.workflowId.startsWith('d365/') || w.workflowId.startsWith('qb/')) runs.push(w);
      }
      return runs;
    },
    async restartWorker() {
      await stopWorker();
      await startWorker();
    },
    stopWorker,
    startWorker,
    async close() {
      await stopWorker();
      await quickbooks.gateway.close();
      await connection.close();
      await syncConnection.close();
      await dataverseSandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}
