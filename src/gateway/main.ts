import { Client, Connection } from '@temporalio/client';
import { loadPayloadKeyRing } from '../codec/keyRing';
import { EncryptedPayloadCodec } from '../codec/payloadCodec';
import { loadConnections } from '../config/connections';
import { runtime } from '../config/runtime';
import { logger } from '../observability/logger';
import { createGatewayApp } from './app';
import { loadCodecAccess } from './codec/codecAccess';
import { codecRouter, uiOriginsFromEnv } from './codec/codecRouter';
import { createQbwcService } from './qbwc/service';
import { createSoapEndpoint } from './qbwc/soapEndpoint';
import { dataverseWebhookRouter } from './webhooks/dataverseWebhook';
import { temporalRecordSyncStarter } from './webhooks/recordSyncStarter';

async function main(): Promise<void> {
  const connections = loadConnections(runtime.dataDir);
  const payloadCodec = new EncryptedPayloadCodec(loadPayloadKeyRing(runtime.dataDir));
  const client = new Client({
    connection: await Connection.connect({ address: runtime.temporalAddress }),
    namespace: runtime.namespace,
    dataConverter: { payloadCodecs: [payloadCodec] },
  });
  const log = logger.child({ component: 'gateway' });
  const publicUrl = process.env.GATEWAY_PUBLIC_URL ?? `http://${runtime.gatewayHost}:${runtime.gatewayPort}/qbwc`;
  const qbwc = await createSoapEndpoint({
    publicUrl,
    log,
    service: createQbwcService({
      client,
      taskQueue: runtime.taskQueue,
      log,
      connections: () =>
        connections.map((c) => ({
          name: c.name,
          userName: c.qbwc.userName,
          passwordHash: c.qbwc.passwordHash,
          companyFilePath: c.qbwc.companyFilePath,
        })),
    }),
  });
  const webhooks = dataverseWebhookRouter({
    log: log.child({ component: 'webhooks' }),
    tag: process.env.DATAVERSE_WRITE_TAG ?? 'qbsync',
    startRecordSync: temporalRecordSyncStarter(client, runtime.taskQueue),
    resolveConnection: (name) => {
      const found = name ? connections.find((c) => c.name === name) : connections[0];
      return found?.webhook ? { name: found.name, auth: found.webhook } : undefined;
    },
  });
  const codec = codecRouter({
    codec: payloadCodec,
    access: loadCodecAccess(runtime.dataDir),
    uiOrigins: uiOriginsFromEnv(),
    log: log.child({ component: 'codec' }),
  });
  const app = createGatewayApp({ qbwc, webhooks, codec });
  const server = app.listen(runtime.gatewayPort, runtime.gatewayHost, () => {
    log.info({ url: publicUrl }, 'gateway listening');
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    logger.error({ error: String(error) }, 'gateway stopped with an error');
    process.exit(1);
  });
}
