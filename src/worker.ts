import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { runtime } from './config/runtime';
import { logger } from './observability/logger';

export interface ConnectorWorkerOptions {
  connection: NativeConnection;
  client: Client;
  taskQueue: string;
  namespace?: string;
  /** Prebuilt workflow bundle (production); else the workflows are bundled from source at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createConnectorWorker(options: ConnectorWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities({ client: options.client, taskQueue: options.taskQueue }),
  });
}

async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: runtime.temporalAddress });
  const client = new Client({
    connection: await Connection.connect({ address: runtime.temporalAddress }),
    namespace: runtime.namespace,
  });
  const worker = await createConnectorWorker({
    connection,
    client,
    taskQueue: runtime.taskQueue,
    namespace: runtime.namespace,
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
