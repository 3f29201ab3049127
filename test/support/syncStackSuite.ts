import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { temporalRecordSyncStarter } from '../../src/gateway/webhooks/recordSyncStarter';
import { DEMO_UNIT_ID, demoProductId } from '../../src/sandbox/dataverse/demoOrganisation';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { QbRecord, QbxmlRequest } from '../../src/qbxml/requests';
import { startSyncStack, type SyncStack } from './syncStack';
import { startTestTemporal } from './temporal';

/** The connector of one end-to-end suite: its own Temporal and sync stack, from before its first test to after its last. */
export interface SyncStackSuite {
  readonly env: TestWorkflowEnvironment;
  readonly stack: SyncStack;
}

/**
 * Starts the suite's Temporal and sync stack before its tests (then `prepare`, the suite's own first syncs) and closes
 * both after them, even when the start failed half-way. Call it inside the suite's `describe`.
 */
export function syncStackSuite(prepare?: (suite: SyncStackSuite) => Promise<void>): SyncStackSuite {
  let env: TestWorkflowEnvironment | undefined;
  let stack: SyncStack | undefined;
  const suite: SyncStackSuite = {
    get env() {
      assert.ok(env, 'the suite’s Temporal is started before its tests');
      return env;
    },
    get stack() {
      assert.ok(stack, 'the suite’s sync stack is started before its tests');
      return stack;
    },
  };
  before(async () => {
    env = await startTestTemporal();
    stack = await startSyncStack(env);
    await prepare?.(suite);
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });
  return suite;
}

/** A Dynamics row the test expects to exist. */
export async function dynamicsRow(
  stack: SyncStack,
  entity: keyof typeof ENTITY_SETS,
  id: string,
): Promise<Record<string, unknown>> {
  const row = await stack.dataverse.retrieve(ENTITY_SETS[entity], id);
  assert.ok(row, `${entity} ${id} exists`);
  return row;
}

/** The invoice rows made from an order (the QuickBooks invoices in Dynamics), in the order Dynamics lists them. */
export async function invoiceRowsOf(stack: SyncStack, orderId: string): Promise<Record<string, unknown>[]> {
  const rows = [];
  for await (const row of stack.dataverse.queryRows(ENTITY_SETS.invoice, {
    select: [
      'invoiceid',
      'statecode',
      'statuscode',
      'qbsync_companyfile',
      'qbsync_qbtxnid',
      'qbsync_invoicenumber',
      'qbsync_balance',
      'qbsync_invoicestatus',
    ],
    filter: `_salesorderid_value eq ${orderId}`,
  })) {
    rows.push(row);
  }
  return rows;
}

/** Why a workflow failed, or '' when it completed. */
export async function workflowFailure(env: TestWorkflowEnvironment, workflowId: string): Promise<string> {
  try {
    await env.client.workflow.getHandle(workflowId).result();
    return '';
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    return cause?.message ?? String(err);
  }
}

/** A qbXML request document around request bodies written out by hand, stopping at the first error. */
export function qbxmlMessage(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${body}</QBXMLMsgsRq></QBXML>`;
}

/**
 * The records an office's company file answers a request with, straight from the simulator (no Web Connector): a
 * qbXML body (`<CustomerQueryRq>…`) or a request the codec builds. A refusal fails the test; nothing found is none.
 */
export function quickbooksRecords(
  stack: SyncStack,
  office: 'east' | 'west',
  request: string | QbxmlRequest,
): QbRecord[] {
  const message = typeof request === 'string' ? qbxmlMessage(request) : buildQbxmlMessage([request]);
  const [response] = parseQbxmlResponse(stack.quickbooks.files[office]!.processRequest(message));
  assert.ok(response && response.statusCode <= 1, `QuickBooks refused: ${response?.statusMessage ?? ''}`);
  return response.records;
}

/**
 * A write's answer lost the hard way: east's Web Connector runs sessions (at most `sessions`) until QuickBooks has
 * processed the first request whose XML holds `request` (`<InvoiceAddRq`), and the worker is stopped right then, so
 * QuickBooks has the write and nobody is left to hear that it does; then the worker starts again. Whether the request
 * reached QuickBooks.
 */
export async function loseAnswerTo(stack: SyncStack, request: string, sessions: number): Promise<boolean> {
  let killed = false;
  stack.hooks.afterProcess = async (_office, xml) => {
    if (!killed && xml.includes(request)) {
      killed = true;
      await stack.stopWorker();
    }
  };
  for (let i = 0; i < sessions && !killed; i++) {
    await new Promise((r) => setTimeout(r, 400));
    await stack.connectors.east!.runSession();
  }
  stack.hooks.afterProcess = undefined;
  await stack.startWorker();
  return killed;
}

/** An order a person enters in Dynamics for `accountId`: one line of the demo's HW-1003 at 129.00. Its id. */
export async function enterOrder(stack: SyncStack, accountId: string, name: string, quantity: number): Promise<string> {
  const orderId = randomUUID();
  await stack.dataverse.create(ENTITY_SETS.salesorder, {
    salesorderid: orderId,
    name,
    'customerid_account@odata.bind': `/accounts(${accountId})`,
  });
  await stack.dataverse.create(ENTITY_SETS.salesorderdetail, {
    'salesorderid@odata.bind': `/salesorders(${orderId})`,
    'productid@odata.bind': `/products(${demoProductId('HW-1003')})`,
    'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
    quantity,
    priceperunit: 129,
    ispriceoverridden: true,
  });
  return orderId;
}

/** Dynamics' webhook for an order's creation, as the gateway hands it to the record sync starter. */
export function orderCreated(orderId: string) {
  return {
    entity: 'salesorder',
    id: orderId,
    messageName: 'Create',
    operationId: randomUUID(),
    changedAttributes: [],
    needsRead: true,
  };
}

/** The order's run, started as Dynamics' webhook for its creation starts it (a quiet period of half a second). */
export async function announceOrder(stack: SyncStack, orderId: string): Promise<string> {
  const start = temporalRecordSyncStarter(stack.env.client, 'sync-e2e', { quietPeriodMs: 500 });
  return (await start(orderCreated(orderId), 'east')).workflowId;
}
