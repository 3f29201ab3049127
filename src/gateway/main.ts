import { Client } from '@temporalio/client';
import { connectorDataConverter } from '../codec/dataConverter';
import { loadPayloadKeyRing } from '../codec/keyRing';
import { EncryptedPayloadCodec } from '../codec/payloadCodec';
import { loadDeployment } from '../config/deployment';
import { runtime } from '../config/runtime';
import { failureSerializers } from '../observability/failureRedaction';
import { logger } from '../observability/logger';
import { temporalReachable } from '../observability/readiness';
import { connectTemporalClient } from '../temporal/connect';
import { createGatewayApp, listenGateway } from './app';
import { loadCodecAccess } from './codec/codecAccess';
import { codecRouter, uiOriginsFromEnv } from './codec/codecRouter';
import { createQbwcService } from './qbwc/service';
import { createSoapEndpoint } from './qbwc/soapEndpoint';
import { TicketAuthority } from './qbwc/tickets';
import { dataverseWebhookRouter } from './webhooks/dataverseWebhook';
import { temporalRecordSyncStarter } from './webhooks/recordSyncStarter';

async function main(): Promise<void> {
  // Secrets are resolved (and QBWC passwords hashed) before anything listens: a missing one stops start-up, naming it.
  const deployment = loadDeployment({ dataDir: runtime.dataDir });
  const { temporal, gateway } = deployment;
  const qbwcConnections = await deployment.qbwcConnections();
  const webhookConnections = deployment.webhookConnections();
  const keyRing = loadPayloadKeyRing(runtime.dataDir);
  const payloadCodec = new EncryptedPayloadCodec(keyRing);
  const client = new Client({
    connection: await connectTemporalClient(deployment.temporalTarget()),
    namespace: temporal.namespace,
    dataConverter: connectorDataConverter(keyRing),
  });
  // Failures the gateway logs (a Temporal call that failed, a refused webhook) are logged by kind, never by their words.
  const log = logger.child({ component: 'gateway' }, { serializers: failureSerializers });
  const tickets = TicketAuthority.fromPayloadKeyRing(keyRing);
  const qbwc = await createSoapEndpoint({
    publicUrl: gateway.qbwcUrl,
    tickets,
    log,
    service: createQbwcService({
      client,
      taskQueue: temporal.taskQueue,
      log,
      connections: () => qbwcConnections,
      tickets,
      ...(deployment.batching
        ? {
            queueLimits: {
              maxRequestsPerRoundTrip: deployment.batching.maxRequestsPerRoundTrip,
              maxRecordsPerRoundTrip: deployment.batching.maxRecordsPerRoundTrip,
            },
          }
        : {}),
    }),
  });
  // `/webhooks/dataverse` without a name goes to the first connection, as listed, if it has a webhook.
  const defaultConnection = deployment.connections[0]?.name;
  const webhooks = dataverseWebhookRouter({
    log: log.child({ component: 'webhooks' }),
    tag: process.env.DATAVERSE_WRITE_TAG ?? 'qbsync',
    startRecordSync: temporalRecordSyncStarter(client, temporal.taskQueue),
    resolveConnection: (name) => webhookConnections.find((c) => c.name === (name || defaultConnection)),
  });
  const codec = codecRouter({
    codec: payloadCodec,
    access: loadCodecAccess(runtime.dataDir),
    uiOrigins: uiOriginsFromEnv(),
    log: log.child({ component: 'codec' }),
  });
  const app = createGatewayApp({
    qbwc,
    ready: temporalReachable(client),
    webhooks,
    codec,
    ...(process.env.GATEWAY_TRUST_PROXY ? { trustProxy: process.env.GATEWAY_TRUST_PROXY } : {}),
  });
  const server = await listenGateway(app, gateway.port, gateway.host);
  log.info(
    { url: gateway.qbwcUrl, host: gateway.host, port: gateway.port, configuration: deployment.source.kind },
    'gateway listening',
  );
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
