import { Client } from '@temporalio/client';
import { type DataConverter } from '@temporalio/common';
import {
  makeTelemetryFilterString,
  type NativeConnection,
  Runtime,
  type RuntimeOptions,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from './activities';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from './config/configFile';
import { loadDeployment } from './config/deployment';
import { type SyncSettings } from './config/syncSettings';
import { type QueueLimits } from './workflows/companyFile/companyFileState';
import { type DataverseClient } from './dataverse/client';
import { connectDataverse } from './dataverse/connect';
import { loadConnectorDataConverter } from './codec/dataConverter';
import { runtime } from './config/runtime';
import { connectTemporalClient, connectTemporalWorker } from './temporal/connect';
import { workflowBundleToRun } from './temporal/workflowBundle';
import { temporalSdkLogger } from './observability/failureRedaction';
import { logger } from './observability/logger';
import { taskQueuePolled } from './observability/readiness';
import { DEFAULT_WORKER_SDK_METRICS_PORT, metricsPortFromEnv, startMetricsServer } from './observability/metricsServer';

export interface ConnectorWorkerOptions {
  connection: NativeConnection;
  client: Client;
  taskQueue: string;
  namespace?: string;
  /**
   * Prebuilt workflow bundle, written by `writeWorkflowBundle` (./temporal/workflowBundle: it carries the failure
   * converter the data converter names); else the worker bundles the workflows itself at start.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Encrypts payloads; give the client the same one, or it cannot read what the worker writes. */
  dataConverter?: DataConverter;
  /**
   * Dynamics side and per-connection settings; without them the worker serves QuickBooks requests only. Dataverse
   * calls gather across record activities unless `bulkWrites`, `bulkReads` and `bulkUpdates` say `false`: one request
   * a row, as before issue 15 (the benchmark's per-row initial load, bench/syncPhases.ts).
   */
  sync?: { dataverse: DataverseClient; settings: ReadonlyMap<string, SyncSettings> } & Pick<
    ActivityDeps,
    'bulkWrites' | 'bulkReads' | 'bulkUpdates'
  >;
  /** QuickBooks work per Web Connector round trip; the company file workflow's defaults otherwise. */
  queueLimits?: Partial<QueueLimits>;
  /** How long a requester waits for QuickBooks without an answer; the activities' default otherwise. */
  quickbooksWaitMs?: number;
  /** How long the worker keeps the Dynamics choice options it read; the activities' default (60 s) otherwise. */
  choiceOptionsMaxAgeMs?: number;
  /** Workflows kept in memory between their tasks; `DEFAULT_MAX_CACHED_WORKFLOWS` (config/configFile) otherwise. */
  maxCachedWorkflows?: number;
}

export async function createConnectorWorker(options: ConnectorWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities({
      client: options.client,
      taskQueue: options.taskQueue,
      ...(options.queueLimits ? { queueLimits: options.queueLimits } : {}),
      ...(options.quickbooksWaitMs === undefined ? {} : { quickbooksWaitMs: options.quickbooksWaitMs }),
      ...(options.choiceOptionsMaxAgeMs === undefined ? {} : { choiceOptionsMaxAgeMs: options.choiceOptionsMaxAgeMs }),
      ...options.sync,
    }),
  });
}

/**
 * The worker's Temporal runtime. The SDK logs activity and workflow failures with their messages ("Activity failed",
 * "Workflow failed"), and Rust core writes its own lines to stderr unless they are forwarded: both go through the
 * redacting logger, so failure texts that name customers stay as encrypted as they are in the histories.
 */
export function workerRuntimeOptions(options: { log: Logger; prometheusBindAddress?: string }): RuntimeOptions {
  return {
    logger: temporalSdkLogger(options.log),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(options.prometheusBindAddress
        ? { metrics: { prometheus: { bindAddress: options.prometheusBindAddress } } }
        : {}),
    },
  };
}

async function main(): Promise<void> {
  // First, so an invalid configuration file or a missing secret stops the worker before it connects anywhere.
  const deployment = loadDeployment({ dataDir: runtime.dataDir });
  const { temporal } = deployment;
  const target = deployment.temporalTarget();
  const dataConverter = loadConnectorDataConverter();
  // The SDK's own metrics (task slots, poll latency, workflow and activity outcomes) come from Rust core and have to
  // be configured before the first connection creates the runtime.
  const metricsHost = process.env.WORKER_METRICS_HOST ?? '127.0.0.1';
  const sdkMetricsPort = metricsPortFromEnv(
    process.env.WORKER_SDK_METRICS_PORT,
    'WORKER_SDK_METRICS_PORT',
    DEFAULT_WORKER_SDK_METRICS_PORT,
  );
  Runtime.install(
    workerRuntimeOptions({
      log: logger.child({ component: 'temporal-sdk' }),
      ...(sdkMetricsPort !== undefined ? { prometheusBindAddress: `${metricsHost}:${sdkMetricsPort}` } : {}),
    }),
  );
  const metricsPort = metricsPortFromEnv(process.env.WORKER_METRICS_PORT);
  const dataverse = connectDataverse(deployment.dataverseTarget(), {
    label: 'worker',
    governor: deployment.governor,
  });
  const connection = await connectTemporalWorker(target);
  const client = new Client({
    connection: await connectTemporalClient(target),
    namespace: temporal.namespace,
    dataConverter,
  });
  // Built ahead by `npm run build` (or WORKFLOW_BUNDLE_PATH): bundling here would hold a few hundred MiB at each start.
  const workflowBundle = workflowBundleToRun(process.env);
  const worker = await createConnectorWorker({
    connection,
    client,
    ...(workflowBundle ? { workflowBundle } : {}),
    taskQueue: temporal.taskQueue,
    namespace: temporal.namespace,
    dataConverter,
    maxCachedWorkflows: deployment.maxCachedWorkflows,
    ...(deployment.choiceOptionsMaxAgeMs === undefined
      ? {}
      : { choiceOptionsMaxAgeMs: deployment.choiceOptionsMaxAgeMs }),
    sync: {
      dataverse: dataverse.client,
      settings: new Map(deployment.connections.map((c) => [c.name, c.sync])),
    },
    ...(deployment.batching
      ? {
          queueLimits: {
            maxRequestsPerRoundTrip: deployment.batching.maxRequestsPerRoundTrip,
            maxRecordsPerRoundTrip: deployment.batching.maxRecordsPerRoundTrip,
          },
          ...(deployment.batching.quickbooksWaitHours === undefined
            ? {}
            : { quickbooksWaitMs: deployment.batching.quickbooksWaitHours * 3_600_000 }),
        }
      : {}),
  });
  // `/readyz` next to `/metrics`: ready once the server sees this worker polling its task queue.
  const metricsServer =
    metricsPort === undefined
      ? undefined
      : await startMetricsServer({
          port: metricsPort,
          host: metricsHost,
          ready: taskQueuePolled({
            client,
            namespace: temporal.namespace,
            taskQueue: temporal.taskQueue,
            worker: () => worker,
          }),
        });
  logger.info(
    {
      taskQueue: temporal.taskQueue,
      temporal: temporal.address,
      configuration: deployment.source.kind,
      workflows: workflowBundle?.codePath ?? 'bundled at start',
    },
    'worker started',
  );
  await worker.run();
  await dataverse.close();
  await connection.close();
  await metricsServer?.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    logger.error({ error: String(error) }, 'worker stopped with an error');
    process.exit(1);
  });
}
