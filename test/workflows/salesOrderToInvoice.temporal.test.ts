import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type {
  InvoiceOnOrder,
  InvoicePayment,
  SalesOrderForInvoice,
  SalesOrderVersion,
} from '../../src/activities/dataverseSalesOrders';
import type { SyncContext } from '../../src/activities/syncContext';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import { dataverseRecordWorkflowId } from '../../src/mapping/entityRegistry';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { QbxmlRequest } from '../../src/qbxml/requests';
import {
  companyFileWorkflowId,
  qbxmlResultsSignal,
  type QbxmlBatch,
  type QbxmlResult,
} from '../../src/workflows/companyFile/messages';
import { dataverseRecordSync, type DataverseRecordSyncResult } from '../../src/workflows/dataverseRecordSync';
import { syncOutcome } from '../../src/workflows/searchAttributes';
import { startTestTemporal } from '../support/temporal';

/**
 * The sales order → invoice flow on a real dev server, its Dataverse activities faked and its company file replaced by
 * one that answers each request with canned qbXML (parsed by the connector's own parser), so every branch the Web
 * Connector can produce (a lost answer, a number already taken) is exercised without a QBWC session.
 */

const ORDER_ID = '7938fc7a-b1f1-55ae-9f76-84f3ab648c74';
const LINK = `{${ORDER_ID.toUpperCase()}}`;
const taskQueue = `sales-order-${randomUUID()}`;

function order(overrides: Partial<SalesOrderForInvoice['order']> = {}): SalesOrderForInvoice {
  return {
    order: {
      salesorderid: ORDER_ID,
      name: 'Bikes for Acme',
      ordernumber: 'ORD-01001-AB12CD',
      totalamount: '30.00',
      statecode: 0,
      statuscode: 1,
      ...overrides,
    },
    lines: [
      {
        salesorderdetailid: 'a0000000-0000-0000-0000-000000000001',
        lineitemnumber: 1,
        _productid_value: 'b0000000-0000-0000-0000-000000000001',
        quantity: '2',
        priceperunit: '15.00',
        extendedamount: '30.00',
      },
    ],
    customer: { accountId: 'c0000000-0000-0000-0000-000000000001', name: 'Acme', companyFile: 'east', listId: 'C-1' },
    products: { 'b0000000-0000-0000-0000-000000000001': { name: 'Widget', companyFile: 'east', listId: 'I-1' } },
  };
}

function qbxml(body: string): string {
  return `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRs>${body}</QBXMLMsgsRs></QBXML>`;
}

/** An invoice as QuickBooks returns it. */
function invoiceRet(txnId: string, customerListId: string, externalGuid: string): string {
  return (
    `<InvoiceRet><TxnID>${txnId}</TxnID><TimeCreated>2024-03-01T09:00:00-08:00</TimeCreated>` +
    `<TimeModified>2024-03-01T09:00:00-08:00</TimeModified><EditSequence>1709312400</EditSequence>` +
    `<TxnNumber>7</TxnNumber><CustomerRef><ListID>${customerListId}</ListID><FullName>Acme</FullName></CustomerRef>` +
    `<TxnDate>2024-03-01</TxnDate><RefNumber>01001</RefNumber><Subtotal>30.00</Subtotal>` +
    `<SalesTaxTotal>0.00</SalesTaxTotal><BalanceRemaining>30.00</BalanceRemaining><IsPaid>false</IsPaid>` +
    `<ExternalGUID>${externalGuid}</ExternalGUID></InvoiceRet>`
  );
}

/** A company file in miniature: the invoices it holds, and how it answers (or fails to answer) each request. */
interface FakeCompanyFile {
  invoices: string[];
  /** Adds whose effect happens but whose answer is lost (the QBWC session dies after QuickBooks applied them). */
  loseAddAnswers: number;
  /** Adds lost before QuickBooks applied them: the answer is unknown and nothing landed. */
  dropAdds: number;
  /** QuickBooks refuses a read of an invoice by its TxnID (the run's read once its invoice is recorded). */
  refuseReadsByTxnId?: boolean;
  sent: QbxmlRequest[];
}

let file: FakeCompanyFile;
let recorded: InvoiceOnOrder[];
/** Payments the flow recorded on the invoice row after the invoice itself. */
let payments: InvoicePayment[];
/** What happens in QuickBooks while the flow records its invoice on the order (a customer paying meanwhile). */
let whileRecording: (() => void) | undefined;
let salesOrder: SalesOrderForInvoice;
/**
 * The order as each successive read finds it (full reads and the flow's quick looks alike); once they run out, every
 * read finds `salesOrder`. How a test makes the order change under the flow.
 */
let laterReads: SalesOrderForInvoice[];

function readOrder(): SalesOrderForInvoice {
  const next = laterReads.shift();
  if (next) salesOrder = next;
  return salesOrder;
}

/** The order with a second line, as when its lines were still being added at the first read. */
function withSecondLine(base: SalesOrderForInvoice, modifiedon?: string): SalesOrderForInvoice {
  return {
    ...base,
    order: { ...base.order, totalamount: '75.00', ...(modifiedon ? { modifiedon } : {}) },
    lines: [
      ...base.lines,
      {
        salesorderdetailid: 'a0000000-0000-0000-0000-000000000002',
        lineitemnumber: 2,
        _productid_value: 'b0000000-0000-0000-0000-000000000001',
        quantity: '3',
        priceperunit: '15.00',
        extendedamount: '45.00',
        ...(modifiedon ? { modifiedon } : {}),
      },
    ],
  };
}

function answer(request: QbxmlRequest): QbxmlResult {
  file.sent.push(request);
  const { requestId } = request;
  if (request.type === 'InvoiceQuery' && request.txnIds && file.refuseReadsByTxnId) {
    return { requestId, kind: 'rejected', hresult: '0x80040408', message: 'QuickBooks could not process the request' };
  }
  if (request.type === 'InvoiceQuery') {
    const wanted = request.txnIds;
    const body = file.invoices
      .filter((ret) => !wanted || wanted.some((txnId) => ret.includes(`<TxnID>${txnId}</TxnID>`)))
      .join('');
    const status =
      body === ''
        ? 'statusCode="1" statusSeverity="Info" statusMessage="no match"'
        : 'statusCode="0" statusSeverity="Info" statusMessage="Status OK"';
    const [response] = parseQbxmlResponse(
      qbxml(`<InvoiceQueryRs requestID="${requestId}" ${status}>${body}</InvoiceQueryRs>`),
    );
    return { requestId, kind: 'response', response: response!, final: true };
  }
  if (request.type === 'InvoiceAdd' && file.dropAdds > 0) {
    file.dropAdds -= 1;
    return { requestId, kind: 'outcomeUnknown', reason: 'the Web Connector session ended before QuickBooks took it' };
  }
  if (request.type === 'InvoiceAdd') {
    const ret = invoiceRet(
      `T-${file.invoices.length + 1}`,
      request.fields.customerRef?.listId ?? '',
      request.fields.externalGuid ?? '',
    );
    file.invoices.push(ret);
    if (file.loseAddAnswers > 0) {
      file.loseAddAnswers -= 1;
      return {
        requestId,
        kind: 'outcomeUnknown',
        reason: 'the Web Connector session ended before the answer came back',
      };
    }
    const [response] = parseQbxmlResponse(
      qbxml(
        `<InvoiceAddRs requestID="${requestId}" statusCode="0" statusSeverity="Info" statusMessage="Status OK">${ret}</InvoiceAddRs>`,
      ),
    );
    return { requestId, kind: 'response', response: response!, final: true };
  }
  return {
    requestId,
    kind: 'rejected',
    hresult: '0x80040400',
    message: `the fake company file does not answer ${request.type}`,
  };
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  env = await startTestTemporal();
  const settings = sandboxSyncSettings('east');
  // Short, so the test of an order still being edited waits seconds; what matters is that it waits at all.
  settings.invoices.quietSeconds = 2;
  const context: SyncContext = {
    connection: 'east',
    settings,
    choices: { customerTypes: {}, terms: {}, classes: {} },
    receivingConnection: 'east',
  };
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: {
      // The company file's queue, answered at once: results go back the way the real one sends them.
      async submitQbxmlBatch(input: { connection: string; batch: QbxmlBatch }): Promise<void> {
        const results = input.batch.requests.map(answer);
        await env.client.workflow
          .getHandle(input.batch.requester)
          .signal(qbxmlResultsSignal, { batchId: input.batch.batchId, results });
      },
      async loadSyncContext(): Promise<SyncContext> {
        return context;
      },
      async readSalesOrderForInvoice(): Promise<SalesOrderForInvoice> {
        return readOrder();
      },
      async readSalesOrderVersion(): Promise<SalesOrderVersion> {
        const { order, lines } = readOrder();
        return { order, lines };
      },
      async recordInvoiceOnOrder(input: InvoiceOnOrder): Promise<{ changed: boolean; state: number }> {
        recorded.push(input);
        whileRecording?.();
        return { changed: true, state: 4 };
      },
      async recordInvoicePayment(input: InvoicePayment): Promise<{ changed: boolean }> {
        payments.push(input);
        return { changed: true };
      },
    },
  });
  running = worker.run();
  // The connector tells the company file which versions it wrote itself; here a workflow that only takes signals.
  await env.client.workflow.start('signalSink', { workflowId: companyFileWorkflowId('east'), taskQueue });
});

after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

beforeEach(() => {
  file = { invoices: [], loseAddAnswers: 0, dropAdds: 0, sent: [] };
  recorded = [];
  payments = [];
  whileRecording = undefined;
  salesOrder = order();
  laterReads = [];
});

let lastWorkflowId = '';

async function syncOrder(): Promise<DataverseRecordSyncResult> {
  lastWorkflowId = `${dataverseRecordWorkflowId('salesorder', ORDER_ID)}/${randomUUID()}`;
  return env.client.workflow.execute(dataverseRecordSync, {
    workflowId: lastWorkflowId,
    taskQueue,
    args: [{ connection: 'east', entity: 'salesorder', id: ORDER_ID, quietPeriodMs: 0 }],
  });
}

const addsSent = (): (QbxmlRequest & { type: 'InvoiceAdd' })[] =>
  file.sent.filter((r): r is QbxmlRequest & { type: 'InvoiceAdd' } => r.type === 'InvoiceAdd');

async function failureOf(run: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await run;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause as { type?: string; message: string };
    return { message: cause.message, ...(cause.type ? { type: cause.type } : {}) };
  }
  assert.fail('the workflow completed');
}

const sentTypes = (): string[] => file.sent.map((r) => r.type);

describe('sales order → invoice with a faked company file (real dev server)', () => {
  it('no invoice yet: one InvoiceAdd linked to the order, recorded on the order', async () => {
    const result = await syncOrder();
    assert.equal(result.outcome, 'created');
    assert.equal(result.targetId, 'T-1');
    // The look for an invoice of this order, the Add, and the invoice once more after its row was written.
    assert.deepEqual(sentTypes(), ['InvoiceQuery', 'InvoiceAdd', 'InvoiceQuery']);
    assert.deepEqual((file.sent[2] as QbxmlRequest & { type: 'InvoiceQuery' }).txnIds, ['T-1']);
    const add = file.sent[1] as QbxmlRequest & { type: 'InvoiceAdd' };
    assert.equal(add.fields.externalGuid, LINK);
    assert.equal(add.fields.refNumber, '01001');
    assert.deepEqual(recorded, [
      { orderId: ORDER_ID, txnId: 'T-1', invoiceNumber: '01001', balance: '30.00', paid: false, connection: 'east' },
    ]);
    assert.deepEqual(payments, [], 'nothing paid since the Add: no second write');
  });

  it('a payment QuickBooks took while the invoice was being recorded is written on its row by the run', async () => {
    // The customer pays before the invoice's row exists: the poll that sees the payment has no row to write it on.
    whileRecording = () => {
      file.invoices = file.invoices.map((ret) =>
        ret.replace(
          '<BalanceRemaining>30.00</BalanceRemaining><IsPaid>false</IsPaid>',
          '<BalanceRemaining>0.00</BalanceRemaining><IsPaid>true</IsPaid>',
        ),
      );
    };
    const result = await syncOrder();
    assert.equal(result.outcome, 'created');
    assert.equal(recorded[0]?.balance, '30.00', "the Add's answer");
    assert.deepEqual(payments, [{ orderId: ORDER_ID, txnId: 'T-1', balance: '0.00', paid: true, connection: 'east' }]);
  });

  it('QuickBooks refusing that read again leaves the order invoiced and its run completed', async () => {
    file.refuseReadsByTxnId = true;
    const result = await syncOrder();
    assert.equal(result.outcome, 'created');
    assert.deepEqual(sentTypes(), ['InvoiceQuery', 'InvoiceAdd', 'InvoiceQuery']);
    assert.equal(recorded.length, 1);
    assert.deepEqual(payments, []);
  });

  it('an Add whose answer was lost is found by its number and link, never added twice', async () => {
    file.loseAddAnswers = 1;
    const result = await syncOrder();
    assert.deepEqual(sentTypes(), ['InvoiceQuery', 'InvoiceAdd', 'InvoiceQuery', 'InvoiceQuery']);
    assert.equal(file.invoices.length, 1);
    assert.equal(result.targetId, 'T-1');
    assert.equal(result.outcome, 'updated');
    assert.equal(recorded[0]?.txnId, 'T-1');
  });

  it('an Add lost before QuickBooks took it is looked for, then sent again', async () => {
    file.dropAdds = 1;
    const result = await syncOrder();
    assert.deepEqual(sentTypes(), ['InvoiceQuery', 'InvoiceAdd', 'InvoiceQuery', 'InvoiceAdd', 'InvoiceQuery']);
    assert.equal(file.invoices.length, 1);
    assert.equal(result.outcome, 'created');
  });

  it('Adds lost on every try: the order fails as InvoiceAddFailed after the bounded attempts, nothing doubled', async () => {
    file.dropAdds = 10;
    const failure = await failureOf(syncOrder());
    assert.equal(failure.type, 'InvoiceAddFailed');
    assert.equal(sentTypes().filter((t) => t === 'InvoiceAdd').length, 3);
    assert.equal(sentTypes().filter((t) => t === 'InvoiceQuery').length, 3);
    assert.deepEqual(recorded, []);
  });

  it('the number already taken by another customer fails the order as DuplicateInvoiceNumber, adding nothing', async () => {
    file.invoices.push(invoiceRet('T-9', 'C-OTHER', ''));
    const failure = await failureOf(syncOrder());
    assert.equal(failure.type, 'DuplicateInvoiceNumber');
    assert.match(failure.message, /already has invoice 01001/);
    assert.deepEqual(sentTypes(), ['InvoiceQuery']);
    assert.deepEqual(recorded, []);
  });

  it('the number taken by another order of the same customer is a duplicate too', async () => {
    file.invoices.push(invoiceRet('T-8', 'C-1', '{11111111-2222-3333-4444-555555555555}'));
    const failure = await failureOf(syncOrder());
    assert.equal(failure.type, 'DuplicateInvoiceNumber');
    assert.equal(file.invoices.length, 1);
  });

  it('a canceled order asks nothing of QuickBooks', async () => {
    salesOrder = order({ statecode: 2, statuscode: 4 });
    const result = await syncOrder();
    assert.equal(result.outcome, 'unchanged');
    assert.equal(result.note, 'the order is canceled');
    assert.deepEqual(file.sent, []);
    assert.deepEqual(recorded, []);
  });

  it('an order already invoiced asks nothing of QuickBooks and names its invoice', async () => {
    salesOrder = order({ statecode: 4, qbsync_qbtxnid: 'T-3' });
    const result = await syncOrder();
    assert.equal(result.outcome, 'unchanged');
    assert.equal(result.targetId, 'T-3');
    assert.deepEqual(file.sent, []);
  });

  it('lines added between the read and the Add: the invoice is built again from the order as it stands', async () => {
    // The first read caught the order with one line; by the last look before the Add it has two.
    laterReads = [order(), withSecondLine(order())];
    const result = await syncOrder();
    assert.equal(result.outcome, 'created');
    assert.equal(addsSent().length, 1);
    assert.deepEqual(
      addsSent()[0]!.fields.lines?.map((l) => l.quantity),
      ['2', '3'],
      'the invoice carries both lines of the order as it stood when the Add was queued',
    );
  });

  it('an order saved moments ago waits out its quiet period, then is invoiced as it became', async () => {
    // Read while its lines were being added (saved just now), then the second line landed.
    laterReads = [order({ modifiedon: new Date().toISOString() }), withSecondLine(order(), '2024-03-01T09:00:00Z')];
    const result = await syncOrder();
    assert.equal(result.outcome, 'created');
    assert.deepEqual(
      addsSent().map((a) => a.fields.lines?.length),
      [2],
    );
    const history = await env.client.workflow.getHandle(lastWorkflowId).fetchHistory();
    assert.ok(
      history.events?.some((e) => e.timerStartedEventAttributes),
      'the flow waited (a timer) before building the invoice',
    );
  });

  it('an order invoiced by another run meanwhile is not added again', async () => {
    laterReads = [order(), order({ qbsync_qbtxnid: 'T-5', statecode: 4 })];
    const result = await syncOrder();
    assert.equal(result.outcome, 'unchanged');
    assert.equal(result.targetId, 'T-5');
    assert.deepEqual(addsSent(), []);
  });

  it('an order changed after its Add was queued is reported as changedAfterInvoice, outcome and search attribute', async () => {
    // As read, as seen right before the Add, then edited while the Add waited for the Web Connector.
    laterReads = [order(), order(), withSecondLine(order())];
    const result = await syncOrder();
    assert.equal(result.outcome, 'changedAfterInvoice');
    assert.equal(result.targetId, 'T-1');
    assert.match(result.note ?? '', /changed after invoice 01001/);
    assert.match(result.note ?? '', /lines\[a0000000-0000-0000-0000-000000000002\] added/);
    assert.equal(addsSent().length, 1);
    assert.equal(recorded[0]?.txnId, 'T-1', 'the invoice it has is still recorded on the order');
    const described = await env.client.workflow.getHandle(lastWorkflowId).describe();
    assert.equal(described.typedSearchAttributes.get(syncOutcome), 'changedAfterInvoice');
  });
});
