import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import type { SyncContext } from '../../src/activities/syncContext';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import type { ChoiceMaps } from '../../src/mapping/choices';
import { dataverseRecordWorkflowId, quickBooksRecordWorkflowId } from '../../src/mapping/entityRegistry';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, QbxmlRequest } from '../../src/qbxml/requests';
import type { SyncedItem } from '../../src/mapping/itemProduct';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import {
  modsInFlightSent,
  newCompanyFileState,
  ownWritesIn,
  ownWritesInReads,
  type CompanyFileState,
} from '../../src/workflows/companyFile/companyFileState';
import {
  companyFileWorkflowId,
  qbxmlResultsSignal,
  type QbxmlBatch,
  type QbxmlResult,
} from '../../src/workflows/companyFile/messages';
import { dataverseRecordSync } from '../../src/workflows/dataverseRecordSync';
import { quickbooksRecordSync, type QuickBooksRecordSyncResult } from '../../src/workflows/sync/quickbooksRecordSync';
import { connectToSandbox } from '../support/dataverseSandbox';
import { startTestTemporal } from '../support/temporal';

/**
 * Issue 11, the chaos run's last phone disagreement (west 80000031: QuickBooks 555-1606, Dynamics 555-8441), replayed
 * step by step on a real dev server with the worker's own Dataverse activities against the Dataverse sandbox and the
 * QuickBooks simulator answering every qbXML request. A customer run carries the version the poll read (V1); before it
 * runs, a Dynamics → QuickBooks run writes the account's new phone to QuickBooks (V2) and to the sync base. The
 * delayed run must not merge V1 against that base: its old phone would look like a QuickBooks edit and go to Dynamics,
 * while QuickBooks keeps the new one.
 */

const taskQueue = `superseded-version-${randomUUID()}`;
const choices: ChoiceMaps = { customerTypes: {}, terms: {}, classes: {} };

let env: TestWorkflowEnvironment;
let dir: string;
let sandbox: DataverseSandbox;
let connection: DataverseConnection;
let worker: Worker;
let running: Promise<void>;
let file: CompanyFileSimulator;
/** Every qbXML request the runs sent, in order. */
let sent: QbxmlRequest[];
/** Runs in QuickBooks just before it takes a request of the connector's (a person editing meanwhile). */
let beforeConnectorRequest: ((request: QbxmlRequest) => void | Promise<void>) | undefined;
/** True for a request QuickBooks applies and whose answer is then lost (the QBWC session cut after the write). */
let answerLost: ((request: QbxmlRequest) => boolean) | undefined;
/**
 * Runs once QuickBooks has applied a request of the connector's and before its answer (or its loss) reaches the run
 * that sent it: what happens in QuickBooks and Dynamics while that run waits (a poll reading the applied write).
 */
let afterConnectorRequest: ((request: QbxmlRequest, lost: boolean) => void | Promise<void>) | undefined;
/**
 * The company file's memory of the connector's writes, kept here by the company file's own rules as the activity
 * below stands in for its queue: each request marked as handed out, then its result taken in, as its workflow does.
 */
let companyFileState: CompanyFileState;
let ownWrites: Record<string, string>;

/** The company file hands `request` to QuickBooks: from here on, QuickBooks may apply it. */
function handedOut(request: QbxmlRequest, requester: string, batchId: string): void {
  companyFileState.inFlight = [{ request, requester, batchId }];
  modsInFlightSent(companyFileState);
}

/** The company file takes in a request's result (or that none came) before the requester gets it. */
function answered(result: QbxmlResult): void {
  Object.assign(ownWrites, ownWritesIn([result]), ownWritesInReads(companyFileState, [result]));
}

/**
 * A poll's read of one customer through the company file, and whether the poll hands the version it read to a
 * customer run: not when it is the connector's own write (pollCycle's `ownEcho`).
 */
function pollRead(listId: string): { version: CustomerRet; handedOff: boolean } {
  const request: QbxmlRequest = { type: 'CustomerQuery', requestId: 'poll-Customer', listIds: [listId] };
  handedOut(request, 'poll', 'poll');
  const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([request])));
  answered({ requestId: request.requestId, kind: 'response', response: response!, final: true });
  const version = response!.records[0] as CustomerRet;
  return { version, handedOff: ownWrites[listId] !== version.editSequence };
}

/** A request made in QuickBooks itself (a person at the keyboard), not by the connector. */
function inQuickBooks(request: QbxmlRequest): CustomerRet {
  const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([request])));
  assert.equal(response?.statusCode, 0, response?.statusMessage);
  return response!.records[0] as CustomerRet;
}

function customerNow(listId: string): CustomerRet {
  return inQuickBooks({ type: 'CustomerQuery', requestId: 'look', listIds: [listId] });
}

before(async () => {
  env = await startTestTemporal();
  dir = mkdtempSync(join(tmpdir(), 'qbsync-superseded-'));
  sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true, keyActivationDelayMs: 0 });
  connection = connectToSandbox(sandbox);
  await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
  const context: SyncContext = {
    connection: 'east',
    settings: sandboxSyncSettings('east'),
    choices,
    receivingConnection: 'east',
  };
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: {
      ...createActivities({
        client: env.client,
        taskQueue,
        dataverse: connection.client,
        bulkWrites: false,
        bulkReads: false,
      }),
      // QuickBooks answers each request at once, as the gateway would hand the answers over.
      async submitQbxmlBatch(input: { connection: string; batch: QbxmlBatch }): Promise<void> {
        const results: QbxmlResult[] = [];
        for (const request of input.batch.requests) {
          sent.push(request);
          handedOut(request, input.batch.requester, input.batch.batchId);
          await beforeConnectorRequest?.(request);
          const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([request])));
          const lost = answerLost?.(request) ?? false;
          await afterConnectorRequest?.(request, lost);
          const result: QbxmlResult = lost
            ? { requestId: request.requestId, kind: 'outcomeUnknown', reason: 'QBWC session cut after the write' }
            : { requestId: request.requestId, kind: 'response', response: response!, final: true };
          answered(result);
          results.push(result);
        }
        await env.client.workflow
          .getHandle(input.batch.requester)
          .signal(qbxmlResultsSignal, { batchId: input.batch.batchId, results });
      },
      async loadSyncContext(): Promise<SyncContext> {
        return context;
      },
    },
  });
  running = worker.run();
  await env.client.workflow.start('signalSink', { workflowId: companyFileWorkflowId('east'), taskQueue });
});

after(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await env?.teardown();
});

beforeEach(() => {
  file = new CompanyFileSimulator({ name: 'east' });
  sent = [];
  beforeConnectorRequest = undefined;
  answerLost = undefined;
  afterConnectorRequest = undefined;
  companyFileState = newCompanyFileState('east');
  ownWrites = {};
});

/** Workflow id of the last customer or item run started. */
let lastRecordRun = '';

/** A customer run carrying `record` as the poll read it (its own workflow id: runs of one record never overlap). */
function customerRun(record: CustomerRet): Promise<QuickBooksRecordSyncResult> {
  return recordRun('customer', record);
}

/** A QuickBooks record run carrying `record` as the poll read it (its own workflow id: runs never overlap). */
function recordRun(entity: 'customer' | 'item', record: CustomerRet | SyncedItem): Promise<QuickBooksRecordSyncResult> {
  lastRecordRun = `${quickBooksRecordWorkflowId('east', entity, record.listId)}/${randomUUID()}`;
  return env.client.workflow.execute(quickbooksRecordSync, {
    workflowId: lastRecordRun,
    taskQueue,
    args: [
      { connection: 'east', entity, listId: record.listId, record, settings: sandboxSyncSettings('east'), choices },
    ],
  });
}

/** Workflow id of the last account run started. */
let lastAccountRun = '';

function accountRun(accountId: string) {
  lastAccountRun = `${dataverseRecordWorkflowId('account', accountId)}/${randomUUID()}`;
  return env.client.workflow.execute(dataverseRecordSync, {
    workflowId: lastAccountRun,
    taskQueue,
    args: [{ connection: 'east', entity: 'account', id: accountId, quietPeriodMs: 0 }],
  });
}

function accountOf(listId: string): Record<string, unknown> {
  const row = sandbox.records.find(sandbox.records.tableBySet('accounts'), [
    ['qbsync_companyfile', 'east'],
    ['qbsync_qblistid', listId],
  ]);
  assert.ok(row, `no account for customer ${listId}`);
  return row as Record<string, unknown>;
}

/**
 * The interleaving of the chaos run: V0 synced; a QuickBooks edit (V1, an email) read by the poll, whose run is
 * delayed; a Dynamics phone edit synced to QuickBooks (V2) meanwhile; then the delayed run with V1.
 */
async function dynamicsWritesWhileCustomerRunWaits(name: string): Promise<{ v1: CustomerRet; accountId: string }> {
  const v0 = inQuickBooks({ type: 'CustomerAdd', requestId: 'add', fields: { name, phone: '555-1606' } });
  assert.equal((await customerRun(v0)).outcome, 'created');
  const accountId = String(accountOf(v0.listId).accountid);

  const v1 = inQuickBooks({
    type: 'CustomerMod',
    requestId: 'edit',
    fields: { listId: v0.listId, editSequence: v0.editSequence, email: 'orders@harbor.example' },
  });

  await connection.client.update('accounts', accountId, { telephone1: '555-8441' });
  const accountSync = await accountRun(accountId);
  assert.equal(accountSync.outcome, 'updated');
  const v2 = customerNow(v0.listId);
  assert.equal(v2.phone, '555-8441', 'the Dynamics phone did not reach QuickBooks');
  assert.equal(v2.email, 'orders@harbor.example');
  assert.notEqual(v2.editSequence, v1.editSequence);
  return { v1, accountId };
}

describe('a customer run carrying a QuickBooks version older than its sync base (real dev server)', () => {
  it('reads the customer again instead of pushing its old phone to Dynamics; both systems end on the new phone', async () => {
    const { v1 } = await dynamicsWritesWhileCustomerRunWaits('Harbor Supply');
    const before = sent.length;

    const delayed = await customerRun(v1);

    const account = accountOf(v1.listId);
    const quickbooks = customerNow(v1.listId);
    assert.equal(quickbooks.phone, '555-8441');
    assert.equal(account.telephone1, '555-8441', 'Dynamics took the phone of the version the run carried');
    assert.equal(account.emailaddress1, 'orders@harbor.example');
    assert.equal(delayed.outcome, 'unchanged');
    // It read QuickBooks once more (the version it carried was superseded) and wrote nothing there.
    const reads = sent.slice(before);
    assert.deepEqual(
      reads.map((r) => r.type),
      ['CustomerQuery'],
    );
    // The new path replays from its own history, as a worker restarted mid-run would.
    const history = await env.client.workflow.getHandle(lastRecordRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });

  it('a version newer than the base is merged as before, without reading QuickBooks again', async () => {
    const { v1 } = await dynamicsWritesWhileCustomerRunWaits('Cove Traders');
    const v2 = customerNow(v1.listId);
    const v3 = inQuickBooks({
      type: 'CustomerMod',
      requestId: 'edit-again',
      fields: { listId: v2.listId, editSequence: v2.editSequence, phone: '555-2000' },
    });
    const before = sent.length;

    const run = await customerRun(v3);

    assert.equal(run.outcome, 'updated');
    assert.equal(accountOf(v3.listId).telephone1, '555-2000');
    assert.deepEqual(sent.slice(before), [], 'the run read QuickBooks again although its version was the newest');
  });
});

/**
 * A customer synced at `phone` (V0), then its phone changed in Dynamics to `dynamicsPhone` and its email in
 * QuickBooks (V1, the version the poll reads and the next customer run carries).
 */
async function editedOnBothSides(
  name: string,
  domain: string,
  phone: string,
  dynamicsPhone: string,
): Promise<{ v0: CustomerRet; v1: CustomerRet; accountId: string }> {
  const v0 = inQuickBooks({
    type: 'CustomerAdd',
    requestId: 'add',
    fields: { name, phone, email: `desk@${domain}.example` },
  });
  assert.equal((await customerRun(v0)).outcome, 'created');
  const accountId = String(accountOf(v0.listId).accountid);
  await connection.client.update('accounts', accountId, { telephone1: dynamicsPhone });
  const v1 = inQuickBooks({
    type: 'CustomerMod',
    requestId: 'edit',
    fields: { listId: v0.listId, editSequence: v0.editSequence, email: `orders@${domain}.example` },
  });
  return { v0, v1, accountId };
}

describe("a QuickBooks edit between a customer run's merge and its Mod (real dev server)", () => {
  it("merges the new version instead of putting the merged version's values back over the edit", async () => {
    // Dynamics changes the phone; QuickBooks the email (V1, the version the poll reads and the run carries).
    const { v1 } = await editedOnBothSides('Quay Mercantile', 'quay', '555-1000', '555-2000');
    // Just before the run's Mod carrying Dynamics' phone reaches QuickBooks, a person changes the email again (V2).
    let edited = false;
    beforeConnectorRequest = (request) => {
      if (edited || request.type !== 'CustomerMod') return;
      edited = true;
      const now = customerNow(v1.listId);
      inQuickBooks({
        type: 'CustomerMod',
        requestId: 'edit-again',
        fields: { listId: now.listId, editSequence: now.editSequence, email: 'billing@quay.example' },
      });
    };

    const run = await customerRun(v1);

    assert.ok(edited, 'the run sent no Mod to QuickBooks');
    const quickbooks = customerNow(v1.listId);
    assert.equal(quickbooks.email, 'billing@quay.example', "the Mod put the merged version's email back");
    assert.equal(quickbooks.phone, '555-2000', "Dynamics' phone never reached QuickBooks");
    const account = accountOf(v1.listId);
    assert.equal(account.emailaddress1, 'billing@quay.example');
    assert.equal(account.telephone1, '555-2000');
    assert.equal(run.quickbooksChanged, true);
    // The Mod went out once on the merged version (refused: 3200) and once on the new one, after reading it.
    const mods = sent.filter((r) => r.type === 'CustomerMod');
    assert.equal(mods.length, 2);
    const history = await env.client.workflow.getHandle(lastRecordRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });
});

/** A request about an item made in QuickBooks itself (a person at the keyboard). */
function itemInQuickBooks(request: QbxmlRequest): PricedItem {
  return inQuickBooks(request) as unknown as PricedItem;
}

/** An item's sales description and price, which Mods of sales-only items set as one group. */
type PricedItem = SyncedItem & { salesOrPurchase?: { desc?: string; price?: string } };

function itemNow(listId: string): PricedItem {
  return itemInQuickBooks({ type: 'ItemQuery', requestId: 'look', listIds: [listId] });
}

/** An item run carrying `record` as the poll read it. */
function itemRun(record: SyncedItem): Promise<QuickBooksRecordSyncResult> {
  return recordRun('item', record);
}

function productOf(listId: string): Record<string, unknown> {
  const row = sandbox.records.find(sandbox.records.tableBySet('products'), [
    ['qbsync_companyfile', 'east'],
    ['qbsync_qblistid', listId],
  ]);
  assert.ok(row, `no product for item ${listId}`);
  return row as Record<string, unknown>;
}

/**
 * A service item synced with `desc` at 120.00 (V0), then its price changed in Dynamics to 150 and its description in
 * QuickBooks (V1, the version the poll reads and the next item run carries).
 */
async function itemEditedOnBothSides(
  name: string,
  desc: string,
  quickbooksDesc: string,
): Promise<{ v0: SyncedItem; v1: SyncedItem; productId: string }> {
  const v0 = itemInQuickBooks({
    type: 'ItemServiceAdd',
    requestId: 'add',
    fields: { name, salesOrPurchase: { desc, price: '120.00' } },
  });
  assert.equal((await itemRun(v0)).outcome, 'created');
  const productId = String(productOf(v0.listId).productid);
  await connection.client.update('products', productId, { price: 150 });
  const v1 = itemInQuickBooks({
    type: 'ItemServiceMod',
    requestId: 'edit',
    fields: { listId: v0.listId, editSequence: v0.editSequence, salesOrPurchase: { desc: quickbooksDesc } },
  });
  return { v0, v1, productId };
}

describe("a QuickBooks edit between an item run's merge and its Mod (real dev server)", () => {
  it("merges the new version: the edit stays and Dynamics' price still reaches QuickBooks", async () => {
    // Dynamics changes the price; QuickBooks the description (V1, carried by the run).
    const { v1 } = await itemEditedOnBothSides('Harbour Survey', 'Hull survey', 'Hull and rig survey');
    let edited = false;
    beforeConnectorRequest = (request) => {
      if (edited || request.type !== 'ItemServiceMod') return;
      edited = true;
      const now = itemNow(v1.listId);
      itemInQuickBooks({
        type: 'ItemServiceMod',
        requestId: 'edit-again',
        fields: { listId: now.listId, editSequence: now.editSequence, salesOrPurchase: { desc: 'Full survey' } },
      });
    };

    await itemRun(v1);

    assert.ok(edited, 'the run sent no Mod to QuickBooks');
    const quickbooks = itemNow(v1.listId);
    assert.equal(quickbooks.salesOrPurchase?.desc, 'Full survey', "the Mod put the merged version's description back");
    assert.equal(Number(quickbooks.salesOrPurchase?.price), 150);
    assert.equal(productOf(v1.listId).description, 'Full survey');
    assert.equal(Number(productOf(v1.listId).price), 150);
  });
});

describe("an account run's Mod applied in QuickBooks, its answer lost, a Dynamics save made meanwhile (real dev server)", () => {
  it('keeps the later Dynamics phone: both systems end on it, not on the phone the lost Mod carried', async () => {
    // Chaos seed 11, 1,000 faults: east 80000040 took 555-8958, 555-1308 and 555-9356 in Dynamics and ended on
    // 555-1308 in both systems.
    const v0 = inQuickBooks({
      type: 'CustomerAdd',
      requestId: 'add',
      fields: { name: 'Lantern Provisions', phone: '555-8958' },
    });
    assert.equal((await customerRun(v0)).outcome, 'created');
    const accountId = String(accountOf(v0.listId).accountid);
    await connection.client.update('accounts', accountId, { telephone1: '555-1308' });
    // The run has read the row (555-1308); the person saves again before its Mod reaches QuickBooks, which applies
    // the Mod and whose answer is then lost.
    let cut = false;
    beforeConnectorRequest = async (request) => {
      if (cut || request.type !== 'CustomerMod') return;
      cut = true;
      await connection.client.update('accounts', accountId, { telephone1: '555-9356' });
    };
    answerLost = (request) =>
      request.type === 'CustomerMod' && sent.filter((r) => r.type === 'CustomerMod').length === 1;

    const run = await accountRun(accountId);

    assert.ok(cut, 'the run sent no Mod to QuickBooks');
    assert.equal(accountOf(v0.listId).telephone1, '555-9356', "the lost Mod's phone went back over the later save");
    assert.equal(customerNow(v0.listId).phone, '555-9356', 'the later Dynamics save never reached QuickBooks');
    assert.equal(run.outcome, 'updated');
    const history = await env.client.workflow.getHandle(lastAccountRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });
});

describe("a customer run's Mod applied in QuickBooks, its answer lost, a Dynamics save made meanwhile (real dev server)", () => {
  it('keeps the later Dynamics phone on the row, and the next account run carries it to QuickBooks', async () => {
    // Dynamics changes the phone, QuickBooks the email (V1, carried by the run): the run's Mod carries Dynamics' phone.
    const { v0, v1, accountId } = await editedOnBothSides('Tidewater Chandlery', 'tidewater', '555-8958', '555-1308');
    let cut = false;
    beforeConnectorRequest = async (request) => {
      if (cut || request.type !== 'CustomerMod') return;
      cut = true;
      await connection.client.update('accounts', accountId, { telephone1: '555-9356' });
    };
    answerLost = (request) =>
      request.type === 'CustomerMod' && sent.filter((r) => r.type === 'CustomerMod').length === 1;

    const run = await customerRun(v1);

    assert.ok(cut, 'the run sent no Mod to QuickBooks');
    assert.equal(accountOf(v0.listId).telephone1, '555-9356', "the lost Mod's phone went back over the later save");
    assert.equal(accountOf(v0.listId).emailaddress1, 'orders@tidewater.example');
    assert.equal(run.quickbooksChanged, true);
    const history = await env.client.workflow.getHandle(lastRecordRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);

    // The later save's own run (its webhook) finds QuickBooks at the base and carries the save over.
    beforeConnectorRequest = undefined;
    answerLost = undefined;
    assert.equal((await accountRun(accountId)).outcome, 'updated');
    assert.equal(customerNow(v0.listId).phone, '555-9356');
    assert.equal(accountOf(v0.listId).telephone1, '555-9356');
  });
});

describe("a poll reads an account run's Mod applied in QuickBooks, its answer lost, before the run recovers (real dev server)", () => {
  it('the poll takes that version for the connector’s own: both systems end on the later Dynamics save', async () => {
    // Issue 11's window left open after 89847cd: QuickBooks applied the connector's Mod, its answer was lost, so the
    // company file learnt the version from no answer; the next poll read it and handed it to a customer run, which
    // merged it as a QuickBooks edit newer than the save and wrote 555-1308 over it before the account run read
    // QuickBooks again. Now the company file knows the Mod it handed out and recognises the version the read brings.
    const v0 = inQuickBooks({
      type: 'CustomerAdd',
      requestId: 'add',
      fields: { name: 'Beacon Outfitters', phone: '555-8958', email: 'desk@beacon.example' },
    });
    assert.equal((await customerRun(v0)).outcome, 'created');
    const accountId = String(accountOf(v0.listId).accountid);
    await connection.client.update('accounts', accountId, { telephone1: '555-1308' });
    // The account run has read the row (555-1308); the person saves again before its Mod reaches QuickBooks.
    let saved = false;
    beforeConnectorRequest = async (request) => {
      if (saved || request.type !== 'CustomerMod') return;
      saved = true;
      await connection.client.update('accounts', accountId, { telephone1: '555-9356' });
    };
    answerLost = (request) =>
      request.type === 'CustomerMod' && sent.filter((r) => r.type === 'CustomerMod').length === 1;
    // QuickBooks holds the Mod's phone; the poll reads that version and, if it hands it off, its customer run
    // completes meanwhile.
    let polled: CustomerRet | undefined;
    afterConnectorRequest = async (_request, lost) => {
      if (!lost || polled) return;
      beforeConnectorRequest = undefined;
      const read = pollRead(v0.listId);
      polled = read.version;
      if (read.handedOff) await customerRun(polled);
    };

    await accountRun(accountId);

    assert.ok(saved, 'the run sent no Mod to QuickBooks');
    assert.equal(polled?.phone, '555-1308', "the poll did not read the lost Mod's version");
    // What the later save's own run (its webhook) and the next poll then do, until both systems are quiet.
    afterConnectorRequest = undefined;
    answerLost = undefined;
    await accountRun(accountId);
    await customerRun(customerNow(v0.listId));
    assert.equal(accountOf(v0.listId).telephone1, '555-9356', "the lost Mod's phone went back over the later save");
    assert.equal(customerNow(v0.listId).phone, '555-9356', 'the later Dynamics save never reached QuickBooks');
    assert.equal(accountOf(v0.listId).emailaddress1, 'desk@beacon.example');
  });
});

/**
 * While a run's lost Mod waits to be found out, a person changes another field in QuickBooks (the email) after a
 * Dynamics save of the field the Mod carried (the phone): the run reads QuickBooks again and finds its Mod applied
 * beside that edit. Merged again against the base agreed before the Mod, its own phone would pass for a QuickBooks
 * edit newer than the save and go back over it in both systems.
 */
function saveThenEditAfterLostMod(listId: string, accountId: string, domain: string): () => boolean {
  let done = false;
  answerLost = (request) => request.type === 'CustomerMod' && sent.filter((r) => r.type === 'CustomerMod').length === 1;
  afterConnectorRequest = async (_request, lost) => {
    if (!lost || done) return;
    done = true;
    await connection.client.update('accounts', accountId, { telephone1: '555-9356' });
    const now = customerNow(listId);
    inQuickBooks({
      type: 'CustomerMod',
      requestId: 'edit-again',
      fields: { listId, editSequence: now.editSequence, email: `billing@${domain}.example` },
    });
  };
  return () => done;
}

describe("a customer run's Mod applied, its answer lost, a Dynamics save and a QuickBooks edit of another field meanwhile (real dev server)", () => {
  it('keeps the later Dynamics phone and the QuickBooks email: both systems end on both', async () => {
    const { v0, v1, accountId } = await editedOnBothSides('Wharf Cordage', 'wharf', '555-8958', '555-1308');
    const happened = saveThenEditAfterLostMod(v0.listId, accountId, 'wharf');

    const run = await customerRun(v1);

    assert.ok(happened(), "the run's Mod was not applied with its answer lost");
    const account = accountOf(v0.listId);
    const quickbooks = customerNow(v0.listId);
    assert.equal(account.telephone1, '555-9356', "the lost Mod's phone went back over the later save");
    assert.equal(quickbooks.phone, '555-9356', 'the later Dynamics save never reached QuickBooks');
    assert.equal(account.emailaddress1, 'billing@wharf.example');
    assert.equal(quickbooks.email, 'billing@wharf.example');
    assert.equal(run.quickbooksChanged, true);
    const history = await env.client.workflow.getHandle(lastRecordRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });
});

describe("an account run's Mod applied, its answer lost, a Dynamics save and a QuickBooks edit of another field meanwhile (real dev server)", () => {
  it('keeps the later Dynamics phone and the QuickBooks email: both systems end on both', async () => {
    const v0 = inQuickBooks({
      type: 'CustomerAdd',
      requestId: 'add',
      fields: { name: 'Jetty Ropeworks', phone: '555-8958', email: 'desk@jetty.example' },
    });
    assert.equal((await customerRun(v0)).outcome, 'created');
    const accountId = String(accountOf(v0.listId).accountid);
    await connection.client.update('accounts', accountId, { telephone1: '555-1308' });
    const happened = saveThenEditAfterLostMod(v0.listId, accountId, 'jetty');

    await accountRun(accountId);

    assert.ok(happened(), "the run's Mod was not applied with its answer lost");
    const account = accountOf(v0.listId);
    const quickbooks = customerNow(v0.listId);
    assert.equal(account.telephone1, '555-9356', "the lost Mod's phone went back over the later save");
    assert.equal(quickbooks.phone, '555-9356', 'the later Dynamics save never reached QuickBooks');
    assert.equal(account.emailaddress1, 'billing@jetty.example');
    assert.equal(quickbooks.email, 'billing@jetty.example');
    const history = await env.client.workflow.getHandle(lastAccountRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });
});

/**
 * The item form of the window above: the run's Mod sets the price, QuickBooks applies it and its answer is lost, then
 * Dynamics saves another price and a person edits the description in QuickBooks. Price and description travel in one
 * group of the Mod (`SalesOrPurchaseMod`), so the version read after holds the Mod's price beside an edit inside the
 * same group.
 */
function priceSaveThenDescEditAfterLostMod(listId: string, productId: string): () => boolean {
  let done = false;
  answerLost = (request) =>
    request.type === 'ItemServiceMod' && sent.filter((r) => r.type === 'ItemServiceMod').length === 1;
  afterConnectorRequest = async (_request, lost) => {
    if (!lost || done) return;
    done = true;
    await connection.client.update('products', productId, { price: 175 });
    const now = itemNow(listId);
    itemInQuickBooks({
      type: 'ItemServiceMod',
      requestId: 'edit-again',
      fields: { listId, editSequence: now.editSequence, salesOrPurchase: { desc: 'Complete survey' } },
    });
  };
  return () => done;
}

describe("an item run's Mod applied, its answer lost, a Dynamics save and a QuickBooks edit in the same group meanwhile (real dev server)", () => {
  it('keeps the later Dynamics price and the QuickBooks description: both systems end on both', async () => {
    const { v0, v1, productId } = await itemEditedOnBothSides(
      'Mooring Inspection',
      'Chain check',
      'Chain and buoy check',
    );
    const happened = priceSaveThenDescEditAfterLostMod(v0.listId, productId);

    const run = await itemRun(v1);

    assert.ok(happened(), "the run's Mod was not applied with its answer lost");
    const product = productOf(v0.listId);
    const quickbooks = itemNow(v0.listId);
    assert.equal(Number(product.price), 175, "the lost Mod's price went back over the later save");
    assert.equal(Number(quickbooks.salesOrPurchase?.price), 175, 'the later Dynamics save never reached QuickBooks');
    assert.equal(product.description, 'Complete survey');
    assert.equal(quickbooks.salesOrPurchase?.desc, 'Complete survey');
    assert.equal(run.quickbooksChanged, true);
    const history = await env.client.workflow.getHandle(lastRecordRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });
});

/** Workflow id of the last product run started. */
let lastProductRun = '';

function productRun(productId: string) {
  lastProductRun = `${dataverseRecordWorkflowId('product', productId)}/${randomUUID()}`;
  return env.client.workflow.execute(dataverseRecordSync, {
    workflowId: lastProductRun,
    taskQueue,
    args: [{ connection: 'east', entity: 'product', id: productId, quietPeriodMs: 0 }],
  });
}

describe("a product run's Mod applied, its answer lost, a Dynamics save and a QuickBooks edit in the same group meanwhile (real dev server)", () => {
  it('keeps the later Dynamics price and the QuickBooks description: both systems end on both', async () => {
    const v0 = itemInQuickBooks({
      type: 'ItemServiceAdd',
      requestId: 'add',
      fields: { name: 'Rigging Survey', salesOrPurchase: { desc: 'Mast check', price: '120.00' } },
    });
    assert.equal((await itemRun(v0)).outcome, 'created');
    const productId = String(productOf(v0.listId).productid);
    await connection.client.update('products', productId, { price: 150 });
    const happened = priceSaveThenDescEditAfterLostMod(v0.listId, productId);

    await productRun(productId);

    assert.ok(happened(), "the run's Mod was not applied with its answer lost");
    const product = productOf(v0.listId);
    const quickbooks = itemNow(v0.listId);
    assert.equal(Number(product.price), 175, "the lost Mod's price went back over the later save");
    assert.equal(Number(quickbooks.salesOrPurchase?.price), 175, 'the later Dynamics save never reached QuickBooks');
    assert.equal(product.description, 'Complete survey');
    assert.equal(quickbooks.salesOrPurchase?.desc, 'Complete survey');
    const history = await env.client.workflow.getHandle(lastProductRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });
});

describe('a new Dynamics account under an account paired with a QuickBooks customer (real dev server)', () => {
  it('its first account run creates it in QuickBooks as a job under that customer', async () => {
    // The parent: a QuickBooks customer synced to its account. The child: saved in Dynamics under that account, in no
    // company file yet, so its run picks the receiving one, where its parent is paired.
    const parent = inQuickBooks({ type: 'CustomerAdd', requestId: 'add', fields: { name: 'Anchor Holdings' } });
    assert.equal((await customerRun(parent)).outcome, 'created');
    const parentAccountId = String(accountOf(parent.listId).accountid);
    const child = await connection.client.create('accounts', {
      name: 'Anchor Marina',
      'parentaccountid@odata.bind': `/accounts(${parentAccountId})`,
    });
    assert.ok(child.id, 'the sandbox returned no account id');

    const run = await accountRun(child.id);

    assert.equal(run.outcome, 'created');
    assert.ok(run.targetId, 'the run paired the account with no customer');
    const job = customerNow(run.targetId);
    assert.equal(job.parentRef?.listId, parent.listId, 'the new account became a top-level customer, not a job');
    assert.equal(job.fullName, 'Anchor Holdings:Anchor Marina');
    assert.equal(accountOf(job.listId).accountid, child.id);
    const history = await env.client.workflow.getHandle(lastAccountRun).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows') }, history);
  });
});
