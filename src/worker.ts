import { Client, Connection } from '@temporalio/client';
import { type DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConnectorDataConverter } from './codec/dataConverter';
import { runtime } from './config/runtime';
import { logger } from './observability/logger';

export interface ConnectorWorkerOptions {
  connection: NativeConnection;
  client: Client;
  taskQueue: string;
  namespace?: string;
  /** Prebuilt workflow bundle (production); else the workflows are bundled from source at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Encrypts payloads; give the client the same one, or it cannot read what the worker writes. */
  dataConverter?: DataConverter;
}

export async function createConnectorWorker(options: ConnectorWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities({ client: options.client, taskQueue: options.taskQueue }),
  });
}

async function main(): Promise<void> {
  const dataConverter = loadConnectorDataConverter();
  const connection = await NativeConnection.connect({ address: runtime.temporalAddress });
  const client = new Client({
    connection: await Connection.connect({ address: runtime.temporalAddress }),
    namespace: runtime.namespace,
    dataConverter,
  });
  const worker = await createConnectorWorker({
    connection,
    client,
    taskQueue: runtime.taskQueue,
    namespace: runtime.namespace,
    dataConverter,
  });
  logger.info({ taskQueue: runtime.taskQueue, temporal: runtime.temporalAddress }, 'worker started');
  await worker.run();
  await connection.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    logger.error({ error: String(error) }, 'worker stopped with an error');
    process.exit(1);
  });
}
