import express, { type Express, type Router } from 'express';
import { type Registry } from 'prom-client';
import { metricsRegistry } from '../observability/metrics';
import { type ReadinessCheck } from '../observability/readiness';

export interface GatewayParts {
  qbwc: Router;
  webhooks?: Router;
  codec?: Router;
  /**
   * Express's `trust proxy` (GATEWAY_TRUST_PROXY, e.g. `uniquelocal` behind the compose file's proxy): which hops'
   * X-Forwarded-For to believe, so authenticate's per-address backoff sees the caller, not the proxy.
   */
  trustProxy?: string;
  /** `/readyz`: 200 when the gateway can serve (Temporal reachable), 503 with the reason otherwise. */
  ready?: ReadinessCheck;
  /** The process registry unless a test wants its own. */
  registry?: Registry;
}

/** The one express app: QBWC SOAP endpoint, Dataverse webhooks, codec endpoint, health and metrics. */
export function createGatewayApp(parts: GatewayParts): Express {
  const app = express();
  app.disable('x-powered-by');
  if (parts.trustProxy) app.set('trust proxy', parts.trustProxy);
  const registry = parts.registry ?? metricsRegistry;
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = parts.ready ? await parts.ready() : { ready: true, detail: 'no readiness check configured' };
    res
      .status(readiness.ready ? 200 : 503)
      .json({ status: readiness.ready ? 'ready' : 'not ready', detail: readiness.detail });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(parts.qbwc);
  if (parts.webhooks) app.use(parts.webhooks);
  if (parts.codec) app.use(parts.codec);
  return app;
}
