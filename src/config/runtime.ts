/** Where the processes find each other. Environment variables override; defaults match `npm start`. */
export const runtime = {
  temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: process.env.TEMPORAL_TASK_QUEUE ?? 'qb-d365-sync',
  gatewayPort: Number(process.env.GATEWAY_PORT ?? 8080),
  gatewayHost: process.env.GATEWAY_HOST ?? '127.0.0.1',
  dataDir: process.env.CONNECTOR_DATA_DIR ?? '.data',
};
