import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { Registry } from 'prom-client';
import { RateGovernor } from '../../src/dataverse/rateGovernor';
import { dataverseWebhookRouter } from '../../src/gateway/webhooks/dataverseWebhook';
import { metricsRegistry, observeDataverseGovernor, recordSynced } from '../../src/observability/metrics';
import {
  DEFAULT_WORKER_METRICS_PORT,
  metricsPortFromEnv,
  startMetricsServer,
  type MetricsServer,
} from '../../src/observability/metricsServer';

/** Value of one series in Prometheus text format, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => present.includes(w)) && present.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

function deferred(): { resolve: () => void; promise: Promise<void> } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { resolve, promise };
}

describe('process metrics registry', () => {
  it('counts synced records by entity, direction and outcome', async () => {
    const labels = { entity: 'customer', direction: 'quickbooks-to-dataverse', outcome: 'created' } as const;
    const before = sample(await metricsRegistry.metrics(), 'qbsync_records_synced_total', labels) ?? 0;
    recordSynced('customer', 'quickbooks-to-dataverse', 'created');
    recordSynced('customer', 'quickbooks-to-dataverse', 'created');
    recordSynced('customer', 'quickbooks-to-dataverse', 'conflict');
    const text = await metricsRegistry.metrics();
    assert.equal(sample(text, 'qbsync_records_synced_total', labels), before + 2);
    assert.equal(sample(text, 'qbsync_records_synced_total', { ...labels, outcome: 'conflict' }), 1);
  });

  it('reports several governors on one registry under their own label, the latest of a name winning', async () => {
    const registry = new Registry();
    const east = new RateGovernor({ name: 'app-east', maxConcurrent: 1 });
    const west = new RateGovernor({ name: 'app-west' });
    observeDataverseGovernor(west, registry);
    observeDataverseGovernor(east, registry);
    const gate = deferred();
    const runs = [east.run(() => gate.promise), east.run(() => gate.promise)];
    west.throttled(10);
    let text = await registry.metrics();
    assert.equal(sample(text, 'dataverse_governor_in_flight', { governor: 'app-east' }), 1);
    assert.equal(sample(text, 'dataverse_governor_waiting', { governor: 'app-east' }), 1);
    assert.equal(sample(text, 'dataverse_governor_throttled_total', { governor: 'app-west' }), 1);
    assert.equal(sample(text, 'dataverse_governor_throttled_total', { governor: 'app-east' }), 0);

    // A client rebuilt with a fresh governor under the same name replaces the old series instead of adding one.
    observeDataverseGovernor(new RateGovernor({ name: 'app-east' }), registry);
    text = await registry.metrics();
    assert.equal(sample(text, 'dataverse_governor_in_flight', { governor: 'app-east' }), 0);
    assert.equal(text.match(/^dataverse_governor_in_flight\{/gm)?.length, 2);
    gate.resolve();
    await Promise.all(runs);
  });
});

describe('worker metrics server', () => {
  let server: MetricsServer;
  const gate = deferred();
  let runs: Promise<unknown>[] = [];

  before(async () => {
    const governor = new RateGovernor({ name: 'worker-test', maxConcurrent: 2 });
    observeDataverseGovernor(governor);
    runs = [1, 2, 3].map(() => governor.run(() => gate.promise));
    server = await startMetricsServer({ port: 0 });
  });
  after(async () => {
    gate.resolve();
    await Promise.all(runs);
    await server.close();
  });

  it('answers /metrics with the governor gauges and the process counters', async () => {
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.equal(sample(text, 'dataverse_governor_in_flight', { governor: 'worker-test' }), 2);
    assert.equal(sample(text, 'dataverse_governor_waiting', { governor: 'worker-test' }), 1);
    assert.ok(sample(text, 'dataverse_governor_pace_per_second', { governor: 'worker-test' })! > 0);
    assert.match(text, /^# TYPE qbsync_records_synced_total counter$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  it('serves nothing else', async () => {
    const other = await fetch(server.url.replace('/metrics', '/healthz'));
    assert.equal(other.status, 404);
    const post = await fetch(server.url, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  it('takes its port from WORKER_METRICS_PORT: default 9464, 0 disables, nonsense refused', () => {
    assert.equal(metricsPortFromEnv(undefined), DEFAULT_WORKER_METRICS_PORT);
    assert.equal(DEFAULT_WORKER_METRICS_PORT, 9464);
    assert.equal(metricsPortFromEnv(''), 9464);
    assert.equal(metricsPortFromEnv('0'), undefined);
    assert.equal(metricsPortFromEnv('9600'), 9600);
    for (const bad of ['-1', '70000', 'abc', '12.5'])
      assert.throws(() => metricsPortFromEnv(bad), /WORKER_METRICS_PORT/);
    assert.equal(metricsPortFromEnv(undefined, 'WORKER_SDK_METRICS_PORT', 9465), 9465);
    assert.throws(() => metricsPortFromEnv('x', 'WORKER_SDK_METRICS_PORT', 9465), /WORKER_SDK_METRICS_PORT/);
  });
});

describe('webhook delivery counter', () => {
  let server: Server;
  let base: string;
  const started: string[] = [];

  before(async () => {
    const app = express();
    app.use(
      dataverseWebhookRouter({
        resolveConnection: (name) =>
          name === undefined || name === 'main'
            ? { name: 'main', auth: { kind: 'HttpHeader', key: 'right-key', headerName: 'x-api-key' } }
            : undefined,
        tag: 'qbsync',
        startRecordSync: async (change, connection) => {
          started.push(`${connection}/${change.entity}`);
          return { workflowId: 'fake' };
        },
        log: pino({ level: 'silent' }),
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const count = async (result: string): Promise<number> =>
    sample(await metricsRegistry.metrics(), 'qbsync_webhook_deliveries_total', { result }) ?? 0;

  it('counts a delivery with the wrong key (or for an unknown connection) as rejected-auth, and starts nothing', async () => {
    const before = await count('rejected-auth');
    const wrongKey = await fetch(`${base}/webhooks/dataverse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'wrong-key' },
      body: '{}',
    });
    assert.equal(wrongKey.status, 401);
    const unknown = await fetch(`${base}/webhooks/dataverse/nobody`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'right-key' },
      body: '{}',
    });
    assert.equal(unknown.status, 401);
    assert.equal(await count('rejected-auth'), before + 2);
    assert.deepEqual(started, []);
  });

  it('counts an authenticated but unreadable body as bad-request', async () => {
    const before = await count('bad-request');
    const rejectedBefore = await count('rejected-auth');
    const res = await fetch(`${base}/webhooks/dataverse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'right-key' },
      body: '{not json',
    });
    assert.equal(res.status, 400);
    assert.equal(await count('bad-request'), before + 1);
    assert.equal(await count('rejected-auth'), rejectedBefore);
  });
});
