import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import express from 'express';
import { createGatewayApp } from '../../src/gateway/app';
import { startMetricsServer } from '../../src/observability/metricsServer';
import { taskQueuePolled, temporalReachable } from '../../src/observability/readiness';
import { startTestTemporal } from '../support/temporal';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

async function serve(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function probe(url: string): Promise<{ status: number; body: { status: string; detail: string } }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as { status: string; detail: string } };
}

describe('readiness', () => {
  it('gateway: /readyz is 200 with Temporal reachable and 503 without, while /healthz stays 200', async () => {
    const reachable = await serve(createGatewayApp({ qbwc: express.Router(), ready: temporalReachable(env.client) }));
    // Nothing listens on port 1: the same gateway pointed at a Temporal that is down.
    const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const unreachable = await serve(createGatewayApp({ qbwc: express.Router(), ready: temporalReachable(down) }));
    try {
      assert.deepEqual(await probe(`${reachable.url}/readyz`), {
        status: 200,
        body: { status: 'ready', detail: 'Temporal is reachable' },
      });
      const refused = await probe(`${unreachable.url}/readyz`);
      assert.equal(refused.status, 503);
      assert.match(refused.body.detail, /^Temporal is not reachable: /);
      assert.equal((await fetch(`${unreachable.url}/healthz`)).status, 200);
    } finally {
      await reachable.close();
      await unreachable.close();
    }
  });

  it('worker: /readyz turns 200 only once the server sees this worker polling its task queue', async () => {
    const taskQueue = 'readiness-test';
    let worker: Worker | undefined;
    const metrics = await startMetricsServer({
      port: 0,
      ready: taskQueuePolled({ client: env.client, namespace: 'default', taskQueue, worker: () => worker }),
    });
    const readyz = metrics.url.replace(/\/metrics$/, '/readyz');
    try {
      assert.deepEqual(await probe(readyz), {
        status: 503,
        body: { status: 'not ready', detail: 'the worker is STARTING' },
      });
      worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('../codec/fixtures/customerGreeting'),
        activities: { formatGreeting: async (name: string) => name },
      });
      const created = await probe(readyz);
      assert.equal(created.status, 503);
      const running = worker.run();
      let answer = created;
      for (let i = 0; i < 100 && answer.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        answer = await probe(readyz);
      }
      assert.deepEqual(answer, { status: 200, body: { status: 'ready', detail: `polling task queue ${taskQueue}` } });
      worker.shutdown();
      await running;
      assert.equal((await probe(readyz)).status, 503);
    } finally {
      await metrics.close();
    }
  });
});
