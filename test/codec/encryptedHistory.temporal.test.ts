import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { connectorDataConverter } from '../../src/codec/dataConverter';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { ENCRYPTED_ENCODING, ENCRYPTION_KEY_ID_KEY } from '../../src/codec/payloadCodec';
import { startTestTemporal } from '../support/temporal';
import type { GreetingActivities } from './fixtures/customerGreeting';

const customerName = `Ngozi Confidential-${randomUUID().slice(0, 8)}`;
const taskQueue = `codec-${randomUUID()}`;
const keyRing = new PayloadKeyRing('history-key', [['history-key', randomBytes(32)]]);
const activities: GreetingActivities = {
  formatGreeting: async (name) => `Dear ${name}, your order has shipped.`,
};

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let codecClient: Client;

before(async () => {
  env = await startTestTemporal();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./fixtures/customerGreeting'),
    activities,
    dataConverter: connectorDataConverter(keyRing),
  });
  workerRun = worker.run();
  codecClient = new Client({ connection: env.connection, dataConverter: connectorDataConverter(keyRing) });
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const candidate = value as { metadata?: unknown; data?: unknown };
  if (candidate.data instanceof Uint8Array && candidate.metadata && typeof candidate.metadata === 'object') {
    found.push(candidate as Payload);
  }
  for (const child of Object.values(value)) payloadsIn(child, found);
  return found;
}

describe('payloads in a real Temporal history', () => {
  it('hold no trace of the customer name, while a client with the codec reads the result in clear', async () => {
    const workflowId = `codec-greeting-${randomUUID()}`;
    const result = await codecClient.workflow.execute('customerGreeting', {
      taskQueue,
      workflowId,
      args: [{ customerName }],
    });
    assert.deepEqual(result, { customerName, greeting: `Dear ${customerName}, your order has shipped.` });

    const raw = await env.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
    });
    const history = temporal.api.history.v1.History.create(raw.history ?? {});
    const wire = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    // The search itself works: the workflow type is stored in clear in the same bytes.
    assert.ok(wire.includes(Buffer.from('customerGreeting')));
    const needles = [customerName, 'Ngozi', Buffer.from(customerName).toString('base64')];
    for (const needle of needles) {
      assert.equal(wire.includes(Buffer.from(needle, 'utf8')), false, `raw history bytes contain ${needle}`);
      assert.doesNotMatch(JSON.stringify(raw.history), new RegExp(needle.replace(/[+/=]/g, '.')));
    }

    const payloads = payloadsIn(raw.history);
    // Start input, activity input and result, workflow result: all encrypted, all with the key id.
    assert.ok(payloads.length >= 4, `expected at least 4 payloads, found ${payloads.length}`);
    for (const payload of payloads) {
      assert.equal(Buffer.from(payload.metadata![METADATA_ENCODING_KEY]!).toString(), ENCRYPTED_ENCODING);
      assert.equal(Buffer.from(payload.metadata![ENCRYPTION_KEY_ID_KEY]!).toString(), 'history-key');
      assert.equal(Buffer.from(payload.data!).includes(Buffer.from('Ngozi')), false);
    }
  });

  it('a client without the codec cannot read the result', async () => {
    const workflowId = `codec-greeting-${randomUUID()}`;
    await codecClient.workflow.execute('customerGreeting', { taskQueue, workflowId, args: [{ customerName }] });
    const plainClient = new Client({ connection: env.connection });
    await assert.rejects(plainClient.workflow.getHandle(workflowId).result(), /encoding|binary\/encrypted/i);
  });
});
