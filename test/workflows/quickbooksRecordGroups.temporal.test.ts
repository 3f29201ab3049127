import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { audit, type AuditRun } from '../../src/cli/auditCommand';
import { sandboxSyncSettings, type SyncSettings } from '../../src/config/syncSettings';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import type { ChoiceMaps } from '../../src/mapping/choices';
import { quickBooksRecordWorkflowId } from '../../src/mapping/entityRegistry';
import type { CustomerRet } from '../../src/qbxml/requests';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import {
  quickbooksRecordBatch,
  type QuickBooksRecordBatchResult,
} from '../../src/workflows/sync/quickbooksRecordBatch';
import { syncSourceIds } from '../../src/workflows/searchAttributes';
import { connectToSandbox } from '../support/dataverseSandbox';
import { startTestTemporal } from '../support/temporal';

/**
 * Issue 15, record groups, end to end on a real dev server and the Dataverse sandbox over HTTPS: a poll's batch large
 * enough writes its customers in record groups (`quickbooksRecordGroup`) instead of one record workflow each. What
 * must hold: every customer reaches its account once, even when the batch runs again; a customer the group cannot
 * finish (cannot be mapped, refused by Dataverse) still gets its own record run, which fails naming why; the group's
 * history is each grouped customer's audit trail, found by its ListID; and a small batch keeps one run a record.
 */

const taskQueue = `record-groups-${randomUUID()}`;
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
  dir = mkdtempSync(join(tmpdir(), 'qbsync-record-groups-'));
  sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: false, keyActivationDelayMs: 0 });
  connection = connectToSandbox(sandbox);
  await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: createActivities({ client: env.client, taskQueue, dataverse: connection.client }),
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

function customer(listId: string, name: string, customerType = 'Retail'): CustomerRet {
  return {
    kind: 'Customer',
    listId,
    editSequence: '1',
    name,
    fullName: name,
    lastName: `Buyer ${name}`,
    customerTypeRef: { fullName: customerType },
    timeModified: '2026-12-01T10:00:00Z',
  };
}

const settings = (recordGroupsFrom: number): SyncSettings => ({ ...sandboxSyncSettings('east'), recordGroupsFrom });

let batches = 0;
function runBatch(records: CustomerRet[], recordGroupsFrom: number): Promise<QuickBooksRecordBatchResult> {
  batches += 1;
  return env.client.workflow.execute(quickbooksRecordBatch, {
    workflowId: `poll/east/record-groups-test/${batches}/customer-1`,
    taskQueue,
    args: [
      {
        connection: 'east',
        entity: 'customer',
        records,
        withRecord: true,
        settings: settings(recordGroupsFrom),
        choices,
        wave: 10,
      },
    ],
  });
}

function accountsOf(listId: string) {
  return sandbox.records.store
    .all('account')
    .filter((row) => row.qbsync_companyfile === 'east' && row.qbsync_qblistid === listId);
}

async function recordRunExists(listId: string): Promise<boolean> {
  try {
    await env.client.workflow.getHandle(quickBooksRecordWorkflowId('east', 'customer', listId)).describe();
    return true;
  } catch {
    return false;
  }
}

async function auditBySource(listId: string): Promise<AuditRun[]> {
  const out: string[] = [];
  const err: string[] = [];
  // Visibility trails the histories by a moment.
  const deadline = Date.now() + 15_000;
  for (;;) {
    out.length = 0;
    const code = await audit(
      { sourceId: listId, json: true },
      { client: env.client, knownConnections: ['east'], out: (t) => out.push(t), err: (l) => err.push(l) },
    );
    if (code === 0) return JSON.parse(out.join('')) as AuditRun[];
    if (Date.now() > deadline) assert.fail(`audit --source ${listId}: ${err.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('record groups: a large batch of QuickBooks customers into Dynamics (real dev server, Dataverse sandbox)', () => {
  const plain = Array.from({ length: 12 }, (_, i) => customer(`8000G${i}-1700000000`, `Grouped ${i}`));
  const refused = customer('8000GR-1700000000', 'Grouped refused', 'Stale');
  const unmapped = customer('8000GU-1700000000', 'Grouped unmapped', 'No such type');
  const batch = [...plain.slice(0, 6), refused, ...plain.slice(6), unmapped];

  it('writes each customer once, leaves only the ones it cannot finish to their own runs, and says why they failed', async () => {
    const result = await runBatch(batch, 10);

    assert.deepEqual(result.outcomes, { 'customer:created': 12, 'customer:failed': 2 });
    assert.equal(result.handedOff['qb:customer'], 14);
    assert.deepEqual(
      [...result.failed].sort(),
      [refused, unmapped].map((r) => quickBooksRecordWorkflowId('east', 'customer', r.listId)).sort(),
    );
    for (const record of plain) {
      const rows = accountsOf(record.listId);
      assert.equal(rows.length, 1, `${record.name}: ${rows.length} accounts`);
      assert.equal(rows[0]!.name, record.name);
      assert.equal(await recordRunExists(record.listId), false, `${record.name} got a record run of its own`);
    }
    assert.equal(accountsOf(refused.listId).length, 0);
    assert.equal(accountsOf(unmapped.listId).length, 0);
    // The records the group could not finish: their own runs failed, each with its reason.
    const refusedRun = await auditBySource(refused.listId);
    const ownRun = refusedRun.find(
      (r) => r.workflowId === quickBooksRecordWorkflowId('east', 'customer', refused.listId),
    );
    assert.equal(ownRun?.status, 'FAILED');
    assert.match(ownRun.failure ?? '', /customertypecode|999999|option/i);
    const unmappedRuns = await auditBySource(unmapped.listId);
    assert.match(unmappedRuns.find((r) => r.status === 'FAILED')?.failure ?? '', /No such type/);
  });

  it("keeps a grouped customer's audit trail in its group, found by its ListID and cut down to that customer", async () => {
    const record = plain[3]!;
    const runs = await auditBySource(record.listId);
    assert.equal(runs.length, 1, JSON.stringify(runs.map((r) => r.workflowId)));
    const [group] = runs as [AuditRun];
    assert.equal(group.workflowType, 'quickbooksRecordGroup');
    assert.equal(group.status, 'COMPLETED');
    assert.equal(group.sourceId, record.listId);
    assert.equal(group.outcome, 'created');
    assert.equal(group.targetId, accountsOf(record.listId)[0]!.accountid);
    // The QuickBooks version, the row asked for and the row written: this customer's, no other's.
    const input = group.input[0] as { records: CustomerRet[] };
    assert.deepEqual(
      input.records.map((r) => r.listId),
      [record.listId],
    );
    const [write] = group.activities;
    assert.equal(write?.activityType, 'syncRecordGroupToDataverse');
    assert.deepEqual(
      (write.result as { listId: string; result: { outcome: string } }[]).map((a) => [a.listId, a.result.outcome]),
      [[record.listId, 'created']],
    );
  });

  it('run again (a replayed poll), finds every account written and doubles none', async () => {
    const result = await runBatch(batch, 10);
    assert.equal(result.outcomes['customer:unchanged'], 12);
    assert.equal(result.outcomes['customer:created'], undefined);
    for (const record of plain) assert.equal(accountsOf(record.listId).length, 1, record.name);
  });

  it('cuts a batch too large for one SyncSourceIds value into several groups, and writes every record once', async () => {
    const many = Array.from({ length: 170 }, (_, i) => customer(`8000GM${i.toString(16)}-1700000000`, `Many ${i}`));
    const result = await runBatch(many, 10);
    assert.deepEqual(result.outcomes, { 'customer:created': 170 });
    for (const record of many) assert.equal(accountsOf(record.listId).length, 1, record.name);
    // Three groups (about 70 ListIDs each), every record in one of them, none in its own run.
    const batchId = `poll/east/record-groups-test/${batches}/customer-1`;
    const grouped: string[] = [];
    for (const n of [1, 2, 3]) {
      const { typedSearchAttributes, status } = await env.client.workflow.getHandle(`${batchId}/group-${n}`).describe();
      assert.equal(status.name, 'COMPLETED');
      grouped.push(...(typedSearchAttributes.get(syncSourceIds) ?? []));
    }
    await assert.rejects(env.client.workflow.getHandle(`${batchId}/group-4`).describe());
    assert.deepEqual(
      grouped,
      many.map((r) => r.listId),
    );
    assert.equal(await recordRunExists(many[0]!.listId), false);
  });

  it('runs a batch smaller than recordGroupsFrom record by record, each in its own run', async () => {
    const small = Array.from({ length: 3 }, (_, i) => customer(`8000GS${i}-1700000000`, `Alone ${i}`));
    const result = await runBatch(small, 10);
    assert.deepEqual(result.outcomes, { 'customer:created': 3 });
    for (const record of small) {
      assert.equal(await recordRunExists(record.listId), true, `${record.name} has no record run`);
      assert.equal(accountsOf(record.listId).length, 1);
    }
  });
});
