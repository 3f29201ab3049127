import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createSyncContextActivities } from '../../src/activities/syncContext';
import { failedRecords, PayloadReader } from '../../src/cli/recordRuns';
import type { DataverseClient } from '../../src/dataverse/client';
import { dataverseRecordSync } from '../../src/workflows/dataverseRecordSync';
import { syncConnection, syncEntity, syncSourceId } from '../../src/workflows/searchAttributes';
import type { fixtureRecordSync } from '../fixtures/recordFixtures';
import { startTestTemporal } from '../support/temporal';

const MINUTE = 60_000;
const taskQueue = `failed-records-${randomUUID()}`;
/** How each fixture record's activity ends: a target, bad data (null), or an outage (an error it cannot retry past). */
const behaviour = new Map<string, 'ok' | 'bad' | 'outage'>();

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;

before(async () => {
  env = await startTestTemporal();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: {
      lookUpTarget: async (sourceId: string) => {
        const how = behaviour.get(sourceId) ?? 'bad';
        // The fixture's activity makes one attempt: this is an outage that outlasted the activity's retries.
        if (how === 'outage') throw new Error('Dataverse answered 503 Service Unavailable');
        return how === 'ok' ? `account-${sourceId}` : null;
      },
      // A Dynamics order's run from before the poll gave runs their connection, failed on an Entra outage while all
      // record failures were still recorded as non-retryable.
      readSalesOrderForInvoice: async () => {
        throw ApplicationFailure.create({
          message: 'the identity provider did not answer',
          type: 'DataverseAuthError',
          nonRetryable: true,
        });
      },
    },
  });
  workerRun = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

/** Runs the fixture record sync under `workflowId` to its end, the way the poll starts record workflows. */
async function runRecord(workflowId: string, connection: string, sourceId: string): Promise<void> {
  const handle = await env.client.workflow.start<typeof fixtureRecordSync>('fixtureRecordSync', {
    workflowId,
    taskQueue,
    args: [{ connection, entity: 'customer', sourceId }],
    typedSearchAttributes: [
      { key: syncConnection, value: connection },
      { key: syncEntity, value: 'customer' },
      { key: syncSourceId, value: sourceId },
    ],
  });
  await handle.result().catch(() => undefined);
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('records whose last run failed, for the poll cycle to run again (real Temporal dev server)', () => {
  it('are due by their backoff, oldest first; bad data waits for a fix, and newer bad data does not starve older outages', async () => {
    const tag = Date.now().toString(36);
    const id = (name: string): string => `qb/east/customer/${name}-${tag}`;
    const source = (name: string): string => `${name}-${tag}`;

    // The oldest failure: an outage.
    behaviour.set(source('outage'), 'outage');
    await runRecord(id('outage'), 'east', source('outage'));
    // A record that failed on an outage, then synced, then failed again: one failed run since its last success.
    behaviour.set(source('recovered'), 'outage');
    await runRecord(id('recovered'), 'east', source('recovered'));
    behaviour.set(source('recovered'), 'ok');
    await runRecord(id('recovered'), 'east', source('recovered'));
    behaviour.set(source('recovered'), 'outage');
    await runRecord(id('recovered'), 'east', source('recovered'));
    // A record that failed twice in a row: it backs off for 30 minutes.
    behaviour.set(source('twice'), 'outage');
    await runRecord(id('twice'), 'east', source('twice'));
    await runRecord(id('twice'), 'east', source('twice'));
    // Records of tables and lists the sync does not handle, and another connection's record.
    behaviour.set(source('contact'), 'outage');
    await runRecord(`d365/contact/${source('contact')}`, 'east', source('contact'));
    await runRecord(`qb/east/invoice/${source('invoice')}`, 'east', source('invoice'));
    behaviour.set(source('west'), 'outage');
    await runRecord(id('west').replace('/east/', '/west/'), 'west', source('west'));
    // A Dynamics order handed off without a connection by the poll before this change.
    const orphan = `d365/salesorder/${randomUUID()}`;
    await env.client.workflow
      .execute(dataverseRecordSync, {
        workflowId: orphan,
        taskQueue,
        args: [{ connection: 'east', entity: 'salesorder', id: orphan.split('/')[2]!, quietPeriodMs: 0 }],
      })
      .catch(() => undefined);
    // The newest failures: bad data, more of it than a cycle retries.
    for (let i = 0; i < 5; i++) await runRecord(id(`bad${i}`), 'east', source(`bad${i}`));

    const { failedRecordWorkflows } = createSyncContextActivities({
      client: env.client,
      dataverse: {} as DataverseClient,
      settings: new Map(),
      // 20 minutes on: past a first failure's 15-minute backoff, not past a second's 30.
      now: () => new Date(Date.now() + 20 * MINUTE),
    });
    const failedRuns = async (): Promise<number> => {
      let n = 0;
      for await (const run of env.client.workflow.list({ query: "ExecutionStatus = 'Failed'" })) {
        if (run.workflowId.endsWith(tag) || run.workflowId === orphan) n++;
      }
      return n;
    };
    await eventually(failedRuns, (n) => n === 14, 'every failed run visible');
    // Due since 15 minutes after they failed, the longest overdue first.
    assert.deepEqual(await failedRecordWorkflows({ connection: 'east', limit: 4 }), [
      id('outage'),
      id('recovered'),
      orphan,
    ]);

    // `qbsync failed -c east`: every failed record of east, the orphan among them, each saying whether it is retried.
    const listed = await failedRecords(env.client, new PayloadReader(undefined), { connection: 'east', limit: 100 });
    const byId = new Map(listed.map((r) => [r.workflowId, r]));
    assert.equal(byId.get(orphan)?.connection, undefined, 'listed, its company file not known yet');
    assert.equal(byId.get(orphan)?.waitsForFix, false);
    assert.equal(byId.get(id('outage'))?.waitsForFix, false, 'an outage is retried');
    assert.equal(byId.get(id('bad0'))?.waitsForFix, true, 'bad data waits for a fix');
    assert.ok(!byId.has(id('west').replace('/east/', '/west/')), "west's record is not east's");
  });
});
