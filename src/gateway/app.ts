import type { Server } from 'node:http';
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

/**
 * How long the gateway keeps an idle connection open. QBWC calls again on a kept-alive connection after its pauses (≈5 s
 * after a NoOp) and, as .NET's HttpWebRequest does, reuses one idle for up to 100 s without heeding the server's
 * `Keep-Alive: timeout` hint. Node closes idle connections after 5 s, so a call sent as the gateway closed its connection
 * was reset and the session ended in an error ("The underlying connection was closed" in QBWC's log; ECONNRESET in the
 * scale-1 benchmark once its Web Connectors paused 5 s). Kept longer than the client keeps them.
 */
export const IDLE_CONNECTION_KEPT_MS = 120_000;

/** `app` listening on `port` and `host`, keeping idle connections as long as QBWC may reuse them. */
export function listenGateway(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
    server.keepAliveTimeout = IDLE_CONNECTION_KEPT_MS;
    // A request's headers may take as long as the connection may idle before it (Node wants it the larger).
    server.headersTimeout = IDLE_CONNECTION_KEPT_MS + 1000;
  });
}
