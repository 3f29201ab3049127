import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createDataversePairedRowActivities } from '../../src/activities/dataversePairedRows';
import type { SalesOrderForInvoice } from '../../src/activities/dataverseSalesOrders';
import type { SyncContext } from '../../src/activities/syncContext';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { dataverseRecordWorkflowId } from '../../src/mapping/entityRegistry';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, QbxmlRequest } from '../../src/qbxml/requests';
import { DEMO_UNIT_GROUP_ID, DEMO_UNIT_ID } from '../../src/sandbox/dataverse/demoOrganisation';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import { seedDemoCompany } from '../../src/sandbox/quickbooks/demoCompany';
import {
  companyFileWorkflowId,
  qbxmlResultsSignal,
  type QbxmlBatch,
  type QbxmlResult,
} from '../../src/workflows/companyFile/messages';
import { dataverseRecordSync } from '../../src/workflows/dataverseRecordSync';
import { connectToSandbox } from '../support/dataverseSandbox';
import { startTestTemporal } from '../support/temporal';

/**
 * Issue 11 item 13: every pairing write is conditional. A sales order whose product is not paired yet gets an item in
 * the order's company file, and the product is paired with it, but only on the version of the product the run read
 * (If-Match): a product its own run paired meanwhile, here with the west office's item, keeps that pairing instead of
 * having it overwritten from a stale view, which would orphan the west item. The sales order flow runs on a real dev
 * server with the real Dataverse activities against the Dataverse sandbox and the QuickBooks simulator answering.
 */

const ORDER_ID = '6a0d4b0e-5f3c-4f0e-8d67-1b9c2f4e7a10';
const taskQueue = `item-pairing-${randomUUID()}`;

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let dir: string;
let sandbox: DataverseSandbox;
let connection: DataverseConnection;
let file: CompanyFileSimulator;
let customer: CustomerRet;
let productId: string;
/** ListID of the west office's item the product's own run pairs it with (one per test: the pairing is a key). */
let westItem: string;
let westItems = 0;
/** Runs once QuickBooks applied the item's Add, before its answer is back: the product's own run, racing the order's. */
let afterItemAdd: (() => Promise<void>) | undefined;

function qb(request: QbxmlRequest) {
  const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([request])));
  return response!;
}

async function answer(request: QbxmlRequest): Promise<QbxmlResult> {
  const response = qb(request);
  if (request.type.startsWith('Item') && request.type.endsWith('Add') && afterItemAdd) {
    const race = afterItemAdd;
    afterItemAdd = undefined;
    await race();
  }
  return { requestId: request.requestId, kind: 'response', response, final: true };
}

/** The product's own run pairing it with the west office's item. */
async function pairWithWest(): Promise<void> {
  await connection.client.update('products', productId, {
    qbsync_companyfile: 'west',
    qbsync_qblistid: westItem,
  });
}

async function pairing(): Promise<{ companyFile: unknown; listId: unknown }> {
  const row = await connection.client.retrieve('products', productId, {
    select: ['productid', 'qbsync_companyfile', 'qbsync_qblistid'],
  });
  return { companyFile: row?.qbsync_companyfile, listId: row?.qbsync_qblistid };
}

/** The order as its run read it: the product was not paired with any company file then. */
function staleOrder(): SalesOrderForInvoice {
  return {
    order: {
      salesorderid: ORDER_ID,
      name: 'Tyres for the shop',
      ordernumber: 'ORD-01001-AB12CD',
      totalamount: '45.00',
      statecode: 0,
      statuscode: 1,
    },
    lines: [
      {
        salesorderdetailid: 'a1000000-0000-0000-0000-000000000001',
        lineitemnumber: 1,
        _productid_value: productId,
        quantity: '1',
        priceperunit: '45.00',
        extendedamount: '45.00',
      },
    ],
    customer: {
      accountId: 'c1000000-0000-0000-0000-000000000001',
      name: customer.name,
      companyFile: 'east',
      listId: customer.listId,
    },
    products: { [productId]: { name: 'Gravel Tyre 700x40', companyFile: null, listId: null } },
  };
}

before(async () => {
  env = await startTestTemporal();
  dir = mkdtempSync(join(tmpdir(), 'qbsync-item-pairing-'));
  sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true });
  connection = connectToSandbox(sandbox);
  await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
  const paired = createDataversePairedRowActivities({ dataverse: connection.client });
  const context: SyncContext = {
    connection: 'east',
    settings: sandboxSyncSettings('east'),
    choices: { customerTypes: {}, terms: {}, classes: {} },
    receivingConnection: 'east',
  };
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: {
      async submitQbxmlBatch(input: { connection: string; batch: QbxmlBatch }): Promise<void> {
        const results: QbxmlResult[] = [];
        for (const request of input.batch.requests) results.push(await answer(request));
        await env.client.workflow
          .getHandle(input.batch.requester)
          .signal(qbxmlResultsSignal, { batchId: input.batch.batchId, results });
      },
      async loadSyncContext(): Promise<SyncContext> {
        return context;
      },
      async readSalesOrderForInvoice(): Promise<SalesOrderForInvoice> {
        return staleOrder();
      },
      // The flow's last look at the order before its Add, and after: the order itself does not change here.
      async readSalesOrderVersion(): Promise<Pick<SalesOrderForInvoice, 'order' | 'lines'>> {
        const { order, lines } = staleOrder();
        return { order, lines };
      },
      async recordInvoiceOnOrder(): Promise<{ changed: boolean; state: number }> {
        return { changed: true, state: 4 };
      },
      readProductForQuickBooks: paired.readProductForQuickBooks,
      writeBackToRow: paired.writeBackToRow,
    },
  });
  running = worker.run();
  await env.client.workflow.start('signalSink', { workflowId: companyFileWorkflowId('east'), taskQueue });
});

after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await connection?.close();
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  file = new CompanyFileSimulator({ name: 'east' });
  seedDemoCompany(file, { office: 'east' });
  customer = qb({ type: 'CustomerQuery', requestId: 'c', maxReturned: 1 }).records[0] as CustomerRet;
  afterItemAdd = undefined;
  const created = await connection.client.create('products', {
    name: 'Gravel Tyre 700x40',
    productnumber: `GT-${randomUUID().slice(0, 8)}`,
    producttypecode: 1,
    price: 45,
    'defaultuomscheduleid@odata.bind': `/uomschedules(${DEMO_UNIT_GROUP_ID})`,
    'defaultuomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
  });
  productId = created.id!;
  westItem = `8000${String(++westItems).padStart(4, '0')}-1700000000`;
});

async function invoiceOrder(): Promise<void> {
  const result = await env.client.workflow.execute(dataverseRecordSync, {
    workflowId: `${dataverseRecordWorkflowId('salesorder', ORDER_ID)}/${randomUUID()}`,
    taskQueue,
    args: [{ connection: 'east', entity: 'salesorder', id: ORDER_ID, quietPeriodMs: 0 }],
  });
  assert.equal(result.outcome, 'created', 'the order was invoiced with the east item all the same');
}

describe('the pairing a sales order writes onto its product is conditional (real dev server, Dataverse sandbox)', () => {
  it('an unpaired product is paired with the item made for the order', async () => {
    await invoiceOrder();
    const items = qb({ type: 'ItemQuery', requestId: 'i', fullNames: ['Gravel Tyre 700x40'] }).records;
    assert.equal(items.length, 1);
    assert.deepEqual(await pairing(), { companyFile: 'east', listId: (items[0] as { listId: string }).listId });
  });

  it('paired by its own run after the order was read: the pairing stays, the west item is not orphaned', async () => {
    await pairWithWest();
    await invoiceOrder();
    assert.deepEqual(await pairing(), { companyFile: 'west', listId: westItem });
  });

  it('paired by its own run between the product read and the write (If-Match): the pairing stays', async () => {
    afterItemAdd = pairWithWest;
    await invoiceOrder();
    assert.equal(afterItemAdd, undefined, 'the race ran');
    assert.deepEqual(await pairing(), { companyFile: 'west', listId: westItem });
  });
});
