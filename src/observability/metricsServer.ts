import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Registry } from 'prom-client';
import { metricsRegistry } from './metrics';
import { type ReadinessCheck } from './readiness';

export interface MetricsServerOptions {
  /** 0 picks a free port (tests); use `metricsPortFromEnv` to honour "0 disables" for the process. */
  port: number;
  host?: string;
  registry?: Registry;
  /** Serves `/readyz` (200 ready, 503 not) from this check, for the container's healthcheck. */
  ready?: ReadinessCheck;
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_WORKER_METRICS_PORT = 9464;
/** Where the Temporal SDK runtime serves its own metrics (`WORKER_SDK_METRICS_PORT`). */
export const DEFAULT_WORKER_SDK_METRICS_PORT = 9465;

/** A metrics port from the environment: unset or empty → `fallback`, `0` → disabled (undefined). */
export function metricsPortFromEnv(
  value: string | undefined,
  variable = 'WORKER_METRICS_PORT',
  fallback = DEFAULT_WORKER_METRICS_PORT,
): number | undefined {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${variable} must be a port number (0 disables), got "${value}"`);
  }
  return port === 0 ? undefined : port;
}

/**
 * `/metrics` (and `/readyz` when given a check) for a process without an HTTP server of its own (the worker). Plain node:http rather than express:
 * one route, and nothing else that could be exposed by accident.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const registry = options.registry ?? metricsRegistry;
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/readyz' && options.ready) {
      void options.ready().then((readiness) => {
        res.writeHead(readiness.ready ? 200 : 503, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(`${JSON.stringify({ status: readiness.ready ? 'ready' : 'not ready', detail: readiness.detail })}\n`);
      });
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
