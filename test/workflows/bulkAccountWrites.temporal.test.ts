import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import type { ChoiceMaps } from '../../src/mapping/choices';
import { quickBooksRecordWorkflowId } from '../../src/mapping/entityRegistry';
import type { CustomerRet } from '../../src/qbxml/requests';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { syncOutcome, syncTargetId } from '../../src/workflows/searchAttributes';
import { quickbooksRecordSync, type QuickBooksRecordSyncResult } from '../../src/workflows/sync/quickbooksRecordSync';
import { connectToSandbox } from '../support/dataverseSandbox';
import { startTestTemporal } from '../support/temporal';

/**
 * Issue 15, first slice, end to end: QuickBooks customers synced by their own record workflows (each one's audit
 * trail, `qb/<connection>/customer/<ListID>`) on a real dev server, their accounts written by the worker's bulk writer
 * into the Dataverse sandbox over HTTPS. The accounts travel in one UpsertMultiple, each workflow still records its
 * own account, and a customer Dataverse refuses fails its own run alone.
 */

const ROWS = 5;
const taskQueue = `bulk-account-writes-${randomUUID()}`;
const choices: ChoiceMaps = {
  customerTypes: { Retail: 1, Wholesale: 2, Stale: 999_999 },
  classes: {},
  terms: {},
};

let env: TestWorkflowEnvironment;
let dir: string;
let sandbox: DataverseSandbox;
let connection: DataverseConnection;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  env = await startTestTemporal();
  dir = mkdtempSync(join(tmpdir(), 'qbsync-bulk-accounts-'));
  sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: false, keyActivationDelayMs: 0 });
  connection = connectToSandbox(sandbox);
  await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    // A call leaves when ROWS rows have gathered (the gathering time is far longer than the test), so which rows
    // travel together does not depend on how fast the loaded machine runs the workflows.
    activities: createActivities({
      client: env.client,
      taskQueue,
      dataverse: connection.client,
      bulkWrites: { maxRows: ROWS, gatherMs: 600_000 },
    }),
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await env?.teardown();
});

/** A customer with a contact person (a primary contact) unless `person` is false. */
function customer(listId: string, name: string, customerType = 'Retail', person = true): CustomerRet {
  return {
    kind: 'Customer',
    listId,
    editSequence: '1',
    name,
    fullName: name,
    ...(person ? { lastName: `Buyer ${name}` } : {}),
    customerTypeRef: { fullName: customerType },
    timeModified: '2026-12-01T10:00:00Z',
  };
}

function syncCustomer(record: CustomerRet): Promise<QuickBooksRecordSyncResult> {
  return env.client.workflow.execute(quickbooksRecordSync, {
    workflowId: quickBooksRecordWorkflowId('east', 'customer', record.listId),
    taskQueue,
    args: [
      {
        connection: 'east',
        entity: 'customer',
        listId: record.listId,
        record,
        settings: sandboxSyncSettings('east'),
        choices,
      },
    ],
  });
}

function accountOf(listId: string) {
  return sandbox.records.find(sandbox.records.tableBySet('accounts'), [
    ['qbsync_companyfile', 'east'],
    ['qbsync_qblistid', listId],
  ]);
}

function upsertMultipleCalls(): number {
  return sandbox.stats().bulkMessages['accounts/UpsertMultiple'] ?? 0;
}

describe('customer record workflows write their accounts together (real dev server, Dataverse sandbox)', () => {
  it('each record workflow records its own account, the accounts travelling in one UpsertMultiple', async () => {
    const records = Array.from({ length: ROWS }, (_, i) => customer(`8000D${i}-1700000000`, `Together ${i}`));
    const callsBefore = upsertMultipleCalls();

    const results = await Promise.all(records.map(syncCustomer));

    assert.equal(upsertMultipleCalls() - callsBefore, 1, 'the accounts did not travel in one call');
    for (const [i, record] of records.entries()) {
      const account = accountOf(record.listId);
      assert.ok(account, `no account for customer ${i}`);
      assert.equal(account.name, record.name);
      const contact = sandbox.records.find(sandbox.records.tableBySet('contacts'), [
        ['qbsync_companyfile', 'east'],
        ['qbsync_qblistid', record.listId],
      ]);
      assert.deepEqual(contact?.parentcustomerid, { table: 'account', id: account.accountid });
      assert.equal(results[i]!.outcome, 'created');
      assert.equal(results[i]!.targetId, account.accountid, `workflow ${i} recorded another record's account`);
      // The audit trail: the record's own run, found by its id, names its account and outcome.
      const run = await env.client.workflow
        .getHandle(quickBooksRecordWorkflowId('east', 'customer', record.listId))
        .describe();
      assert.deepEqual(run.searchAttributes[syncTargetId.name], [account.accountid]);
      assert.deepEqual(run.searchAttributes[syncOutcome.name], ['created']);
    }
  });

  it('a customer Dataverse refuses fails its own run with the reason; the others are written', async () => {
    const bad = 2;
    // Without contact persons: the four written customers' contacts would wait for a fifth that never comes.
    const records = Array.from({ length: ROWS }, (_, i) =>
      customer(`8000E${i}-1700000000`, `Apart ${i}`, i === bad ? 'Stale' : 'Wholesale', false),
    );

    const settled = await Promise.allSettled(records.map(syncCustomer));

    for (const [i, record] of records.entries()) {
      const outcome = settled[i]!;
      if (i === bad) {
        assert.equal(outcome.status, 'rejected');
        const failure = (outcome as PromiseRejectedResult).reason as unknown;
        assert.ok(failure instanceof WorkflowFailedError, String(failure));
        assert.match(String(failure.cause?.message), /outside the valid range/);
        assert.equal(accountOf(record.listId), undefined, 'the refused customer was written');
        const run = await env.client.workflow
          .getHandle(quickBooksRecordWorkflowId('east', 'customer', record.listId))
          .describe();
        assert.deepEqual(run.searchAttributes[syncOutcome.name], ['failed']);
        continue;
      }
      assert.equal(outcome.status, 'fulfilled', `customer ${i} failed with the refused one`);
      const account = accountOf(record.listId);
      assert.ok(account, `no account for customer ${i}`);
      assert.equal((outcome as PromiseFulfilledResult<QuickBooksRecordSyncResult>).value.targetId, account.accountid);
    }
  });
});
