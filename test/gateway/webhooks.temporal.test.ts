import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import pino from 'pino';
import { WorkflowNotFoundError } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startTestTemporal } from '../support/temporal';
import { dataverseWebhookRouter } from '../../src/gateway/webhooks/dataverseWebhook';
import { temporalRecordSyncStarter } from '../../src/gateway/webhooks/recordSyncStarter';
import { syncConnection, syncEntity, syncSourceId } from '../../src/workflows/searchAttributes';

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let server: Server;
let base: string;
const taskQueue = `dataverse-webhooks-${randomUUID()}`;

before(async () => {
  env = await startTestTemporal();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../src/workflows/dataverseRecordSync'),
    // The orders these deliveries name do not exist in Dynamics: each run reads nothing and ends unchanged.
    activities: { readSalesOrderForInvoice: () => Promise.resolve(null) },
  });
  workerRun = worker.run();
  const app = express();
  app.use(
    dataverseWebhookRouter({
      resolveConnection: (name) =>
        name === undefined || name === 'east'
          ? { name: 'east', auth: { kind: 'WebhookKey', key: 'k-secret' } }
          : undefined,
      tag: 'qbsync',
      // Short quiet period so runs finish inside the test; long enough that back-to-back deliveries share one run.
      startRecordSync: temporalRecordSyncStarter(env.client, taskQueue, { quietPeriodMs: 4000 }),
      log: pino({ level: 'silent' }),
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

function orderDelivery(id: string): string {
  return JSON.stringify({
    MessageName: 'Update',
    PrimaryEntityName: 'salesorder',
    PrimaryEntityId: id,
    CorrelationId: randomUUID(),
    OperationId: randomUUID(),
    InputParameters: [
      {
        key: 'Target',
        value: {
          __type: 'Entity:http://schemas.microsoft.com/xrm/2011/Contracts',
          LogicalName: 'salesorder',
          Id: id,
          Attributes: [{ key: 'name', value: 'Confidential customer order' }],
        },
      },
    ],
    SharedVariables: [],
  });
}

async function deliver(path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function changeSignals(workflowId: string): Promise<Record<string, unknown>[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'dataverseChanged')
    .map((event) => {
      const payload = event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
      return JSON.parse(Buffer.from(payload?.data ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>;
    });
}

describe('webhook deliveries against a real Temporal server', () => {
  it('a good delivery starts the record workflow with the signal in its history', async () => {
    const id = randomUUID();
    const result = await deliver('/webhooks/dataverse?code=k-secret', orderDelivery(id));
    assert.equal(result.status, 202);
    const workflowId = `d365/salesorder/${id}`;
    assert.deepEqual(result.json, { workflowId });

    const handle = env.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    assert.equal(description.type, 'dataverseRecordSync');
    assert.equal(description.typedSearchAttributes.get(syncConnection), 'east');
    assert.equal(description.typedSearchAttributes.get(syncEntity), 'salesorder');
    assert.equal(description.typedSearchAttributes.get(syncSourceId), id);

    const signals = await changeSignals(workflowId);
    assert.equal(signals.length, 1);
    assert.equal(signals[0]?.entity, 'salesorder');
    assert.equal(signals[0]?.id, id);
    assert.deepEqual(signals[0]?.changedAttributes, ['name']);
    assert.equal(signals[0]?.needsRead, false);
    assert.doesNotMatch(JSON.stringify(signals), /Confidential/);
    assert.deepEqual(await handle.result(), {
      changes: 1,
      outcome: 'unchanged',
      note: 'the order no longer exists',
    });
    // The attributes given at start stay the run's; it does not pay an action upserting them again (issue 15).
    const upserted = ((await handle.fetchHistory()).events ?? []).flatMap((event) =>
      Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
    );
    assert.ok(!upserted.includes('SyncEntity') && !upserted.includes('SyncSourceId'), `upserted ${upserted.join()}`);
    const closed = await handle.describe();
    assert.equal(closed.typedSearchAttributes.get(syncEntity), 'salesorder');
    assert.equal(closed.typedSearchAttributes.get(syncSourceId), id);
  });

  it('the same delivery twice leaves one workflow run with two signals', async () => {
    const id = randomUUID();
    const body = orderDelivery(id);
    const first = await deliver('/webhooks/dataverse/east?code=k-secret', body);
    const second = await deliver('/webhooks/dataverse/east?code=k-secret', body);
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.equal(first.json.workflowId, second.json.workflowId);

    const workflowId = String(first.json.workflowId);
    const handle = env.client.workflow.getHandle(workflowId);
    const firstRunId = (await handle.describe()).runId;
    assert.equal((await handle.result()).changes, 2);
    assert.equal((await handle.describe()).runId, firstRunId);
    assert.equal((await changeSignals(workflowId)).length, 2);
  });

  it('a delivery with a bad key starts nothing', async () => {
    const id = randomUUID();
    const result = await deliver('/webhooks/dataverse?code=wrong', orderDelivery(id));
    assert.equal(result.status, 401);
    await assert.rejects(
      env.client.workflow.getHandle(`d365/salesorder/${id}`).describe(),
      (error: unknown) => error instanceof WorkflowNotFoundError,
    );
  });
});
