import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { listFailed } from '../../src/cli/failedCommand';
import type { FailedRecord } from '../../src/cli/recordRuns';
import { connectorDataConverter } from '../../src/codec/dataConverter';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { workerRuntimeOptions } from '../../src/worker';
import { syncConnection, syncEntity, syncSourceId } from '../../src/workflows/searchAttributes';
import { startTestTemporal } from '../support/temporal';
import type { AccountActivities } from './fixtures/failingAccount';

const accountName = `Dr. Jane Q. Public-${randomUUID().slice(0, 8)}`;
const taskQueue = `failures-${randomUUID()}`;
const dataConverter = connectorDataConverter(new PayloadKeyRing('failure-key', [['failure-key', randomBytes(32)]]));
const activities: AccountActivities = {
  checkAccount: async (name) => {
    throw new Error(`Dynamics account ${name} cannot be synced: its price level is missing`);
  },
};

/** Everything the worker's runtime logs, as the production worker installs it (pino JSON lines). */
const workerLog: string[] = [];
const sdkLog = pino({ level: 'debug' }, { write: (line: string) => void workerLog.push(line) });

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let client: Client;

before(async () => {
  env = await startTestTemporal(workerRuntimeOptions({ log: sdkLog }));
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./fixtures/failingAccount'),
    activities,
    dataConverter,
  });
  workerRun = worker.run();
  client = new Client({ connection: env.connection, dataConverter });
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

describe('failure messages in a real Temporal history', () => {
  it("hold no trace of the failed record's name, and qbsync failed still prints the reason", async () => {
    const sourceId = `80000009-${Date.now()}`;
    const workflowId = `qb/east/customer/${sourceId}`;
    const failure = await client.workflow
      .execute('failingAccountSync', {
        taskQueue,
        workflowId,
        args: [{ connection: 'east', accountName }],
        typedSearchAttributes: [
          { key: syncConnection, value: 'east' },
          { key: syncEntity, value: 'customer' },
          { key: syncSourceId, value: sourceId },
        ],
      })
      .then(
        () => assert.fail('the workflow should fail'),
        (error: unknown) => error,
      );
    // A client with the converter reads the message in clear.
    assert.ok(failure instanceof WorkflowFailedError);
    assert.match(String(failure.cause?.message), new RegExp(`account ${accountName} cannot be synced`));

    const raw = await env.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
    });
    const history = temporal.api.history.v1.History.create(raw.history ?? {});
    const wire = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    // The search works: the activity's type is in the same bytes in clear.
    assert.ok(wire.includes(Buffer.from('checkAccount')));
    for (const needle of [accountName, 'Jane Q. Public', 'price level', 'failingAccount.ts']) {
      assert.equal(wire.includes(Buffer.from(needle, 'utf8')), false, `raw history bytes contain ${needle}`);
      assert.equal(wire.includes(Buffer.from(Buffer.from(needle).toString('base64'))), false);
    }
    const failures = (raw.history?.events ?? []).flatMap((e) => [
      e.activityTaskFailedEventAttributes?.failure,
      e.workflowExecutionFailedEventAttributes?.failure,
    ]);
    assert.equal(failures.filter(Boolean).length, 2);
    for (const f of failures.filter(Boolean)) {
      assert.equal(f?.message, 'Encoded failure');
      assert.equal(f?.stackTrace ?? '', '');
    }

    // The worker logged the activity's and the workflow's failure, by kind: not a word of the failure itself.
    // Workflow log lines reach the runtime's logger after the workflow task that wrote them completed.
    const lines = ['Activity failed', 'Workflow failed', 'record sync failed'];
    for (let i = 0; i < 100 && !lines.every((line) => workerLog.join('').includes(line)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const logged = workerLog.join('');
    for (const line of lines) assert.ok(logged.includes(line), `the worker did not log "${line}": ${logged}`);
    const activityFailed = workerLog
      .map((line) => JSON.parse(line) as { msg: string; error?: unknown; workflowId?: string; activityId?: string })
      .find((line) => line.msg === 'Activity failed');
    // The failure's kind and where to read it (decoded, in the Web UI or with qbsync failed) stay in the line.
    assert.deepEqual(activityFailed?.error, { kind: 'Error', message: '[redacted failure text]' });
    assert.equal(activityFailed?.workflowId, workflowId);
    // The activity's stack would name this file (the activity is defined here); the log names the workflow file anyway.
    for (const needle of [accountName, 'Jane Q. Public', 'price level', 'encryptedFailures.temporal.test.ts']) {
      assert.equal(logged.includes(needle), false, `the worker log contains ${needle}`);
    }

    const out: string[] = [];
    const err: string[] = [];
    const deps = {
      client,
      dataConverter,
      knownConnections: ['east'],
      out: (text: string) => out.push(text),
      err: (line: string) => err.push(line),
    };
    let listed: FailedRecord | undefined;
    for (let i = 0; i < 60 && !listed; i++) {
      out.length = 0;
      assert.equal(await listFailed({ connection: 'east', sinceMs: 3_600_000, json: true, limit: 50 }, deps), 0);
      listed = (JSON.parse(out.join('')) as FailedRecord[]).find((r) => r.workflowId === workflowId);
      if (!listed) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.match(
      listed?.failure ?? '',
      new RegExp(`account ${accountName} cannot be synced: its price level is missing`),
    );
  });
});
