import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createGatewayApp, listenGateway } from '../../src/gateway/app';
import { hashPassword } from '../../src/config/qbwcPassword';
import { type QbwcConnection } from '../../src/config/deployment';
import { createQbwcService } from '../../src/gateway/qbwc/service';
import { createSoapEndpoint } from '../../src/gateway/qbwc/soapEndpoint';
import { TicketAuthority } from '../../src/gateway/qbwc/tickets';
import { createConnectorWorker } from '../../src/worker';
import { startTestTemporal } from './temporal';

export interface TestGateway {
  url: string;
  qbwcUrl: string;
  connections: QbwcConnection[];
  close(): Promise<void>;
}

export const silentLog = pino({ level: 'silent' });

/** One ticket key for every gateway a test starts, as every gateway of a deployment shares one. */
export const testTicketAuthority = new TicketAuthority(randomBytes(32), []);

/** The gateway's real express app on a free port, for the given connections (name → password). */
export async function startTestGateway(
  client: Client,
  taskQueue: string,
  users: Record<string, string>,
  options: {
    maxBodyBytes?: number;
    callTimeoutMs?: number;
    tickets?: TicketAuthority;
    /** Per connection; the QuickBooks simulator's default zone otherwise, so that both read local times alike. */
    timeZones?: Record<string, string>;
  } = {},
): Promise<TestGateway> {
  const connections: QbwcConnection[] = [];
  for (const [name, password] of Object.entries(users)) {
    connections.push({
      name,
      userName: `qb-${name}`,
      passwordHash: await hashPassword(password),
      timeZone: options.timeZones?.[name] ?? 'America/Los_Angeles',
    });
  }
  const holder: { url: string } = { url: '' };
  const qbwc = await createSoapEndpoint({
    publicUrl: 'http://127.0.0.1/qbwc',
    log: silentLog,
    maxBodyBytes: options.maxBodyBytes,
    tickets: options.tickets ?? testTicketAuthority,
    service: createQbwcService({
      client,
      taskQueue,
      log: silentLog,
      connections: () => connections,
      tickets: options.tickets ?? testTicketAuthority,
      callTimeoutMs: options.callTimeoutMs,
    }),
  });
  const app = createGatewayApp({ qbwc });
  const server: Server = await listenGateway(app, 0, '127.0.0.1');
  holder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: holder.url,
    qbwcUrl: `${holder.url}/qbwc`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A SOAP call shaped exactly as the real Web Connector sends it: default namespace, no prefixes. */
export function qbwcEnvelope(method: string, params: Record<string, string | number>): string {
  const escape = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const children = Object.entries(params)
    .map(([k, v]) => (String(v) === '' ? `<${k} />` : `<${k}>${escape(String(v))}</${k}>`))
    .join('');
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    `<soap:Body><${method} xmlns="http://developer.intuit.com/">${children}</${method}></soap:Body></soap:Envelope>`
  );
}

export async function postSoap(url: string, method: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"http://developer.intuit.com/${method}"` },
    body,
  });
  return { status: res.status, text: await res.text() };
}

export interface GatewayStack {
  env: TestWorkflowEnvironment;
  gateway: TestGateway;
  /** One QBWC SOAP call, shaped as the real Web Connector sends it. */
  call(method: string, params: Record<string, string | number>): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

/** A real dev server, the connector's worker and the gateway for `east` and `west`: what the QBWC tests drive. */
export async function startGatewayStack(taskQueue: string): Promise<GatewayStack> {
  const env = await startTestTemporal();
  const worker = await createConnectorWorker({ connection: env.nativeConnection, client: env.client, taskQueue });
  const running = worker.run();
  const gateway = await startTestGateway(env.client, taskQueue, { east: 'east-pass', west: 'west-pass' });
  return {
    env,
    gateway,
    call: (method, params) => postSoap(gateway.qbwcUrl, method, qbwcEnvelope(method, params)),
    async close() {
      await gateway.close();
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
