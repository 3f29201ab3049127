import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENTITY_SETS, qbListKey } from '../../src/dataverse/entities';
import { DataverseValidationError } from '../../src/dataverse/errors';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, QbRecord } from '../../src/qbxml/requests';
import type { SyncedItem } from '../../src/mapping/itemProduct';
import type { PollCycleInput } from '../../src/workflows/pollCycle';
import { quickbooksRecordSync } from '../../src/workflows/sync/quickbooksRecordSync';
import { qbxmlMessage as qbxml, quickbooksRecords, syncStackSuite } from '../support/syncStackSuite';

/**
 * Active status both ways (issue 16 item 1) on the whole stack: a QuickBooks customer or item made inactive
 * deactivates (retires) its row and active again activates it; a row deactivated in Dynamics makes its QuickBooks
 * record inactive, and back. Each change is followed by a cycle that must find nothing to do (no ping-pong). A record
 * deleted in QuickBooks deactivates and marks its row, which is kept; a deleted invoice shows on its order.
 */
describe('active status and deletions both ways (real Temporal, both sandboxes, Web Connector simulator)', () => {
  const qb = (body: string): QbRecord[] => quickbooksRecords(suite.stack, 'east', body);
  const customerNamed = (name: string): CustomerRet =>
    qb(`<CustomerQueryRq><FullName>${name}</FullName></CustomerQueryRq>`)[0] as CustomerRet;
  const itemNamed = (name: string): SyncedItem =>
    qb(`<ItemQueryRq><FullName>${name}</FullName></ItemQueryRq>`)[0] as SyncedItem;
  const setCustomerActive = (c: CustomerRet, active: boolean): void => {
    qb(
      `<CustomerModRq><CustomerMod><ListID>${c.listId}</ListID><EditSequence>${c.editSequence}</EditSequence><IsActive>${String(active)}</IsActive></CustomerMod></CustomerModRq>`,
    );
  };
  const row = async (table: 'account' | 'product', listId: string): Promise<Record<string, unknown>> => {
    const found = await suite.stack.dataverse.retrieve(ENTITY_SETS[table], qbListKey('east', listId));
    assert.ok(found, `${table} of ${listId} exists`);
    return found;
  };
  const stateOf = async (table: 'account' | 'product', listId: string): Promise<[unknown, unknown]> => {
    const r = await row(table, listId);
    return [r.statecode, r.statuscode];
  };
  /** A cycle after a synced change finds nothing to hand off in either direction. */
  const assertQuiet = async (): Promise<void> => {
    const echo = await suite.stack.cycle('east');
    assert.equal(echo.handedOff['d365:account'] ?? 0, 0, JSON.stringify(echo.dynamicsIds));
    assert.equal(echo.handedOff['d365:product'] ?? 0, 0, JSON.stringify(echo.dynamicsIds));
    assert.equal(echo.handedOff['qb:customer'] ?? 0, 0);
    assert.equal(echo.handedOff['qb:item'] ?? 0, 0);
  };

  const suite = syncStackSuite(async ({ stack }) => {
    const first = await stack.cycle('east');
    await stack.settle();
    assert.deepEqual(first.failed, []);
    await stack.cycle('east'); // write-backs of the first cycle come back once as Dynamics changes
    await stack.settle();
  });

  it('a customer made inactive in QuickBooks deactivates its account; active again activates it', async () => {
    const customer = customerNamed('Harbor Lights Cafe');
    assert.deepEqual(await stateOf('account', customer.listId), [0, 1]);
    setCustomerActive(customer, false);
    // The poll reads with ActiveStatus All: QuickBooks' default (ActiveOnly) would not return the record at all.
    const cycle = await suite.stack.cycle('east');
    assert.deepEqual(cycle.failed, []);
    assert.equal(cycle.outcomes['customer:updated'], 1);
    assert.deepEqual(await stateOf('account', customer.listId), [1, 2]);
    await assertQuiet();

    setCustomerActive(customerNamed('Harbor Lights Cafe'), true);
    const back = await suite.stack.cycle('east');
    assert.equal(back.outcomes['customer:updated'], 1);
    assert.deepEqual(await stateOf('account', customer.listId), [0, 1]);
    await assertQuiet();
  });

  it('an account deactivated in Dynamics makes its QuickBooks customer inactive; activated again, active', async () => {
    const customer = customerNamed('Cape Cod Marine');
    const account = await row('account', customer.listId);
    await suite.stack.dataverse.update(ENTITY_SETS.account, String(account.accountid), { statecode: 1, statuscode: 2 });
    const cycle = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(cycle.failed, []);
    assert.equal(customerNamed('Cape Cod Marine').isActive, false);
    assert.deepEqual(await stateOf('account', customer.listId), [1, 2]);
    await assertQuiet();

    await suite.stack.dataverse.update(ENTITY_SETS.account, String(account.accountid), { statecode: 0, statuscode: 1 });
    await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.equal(customerNamed('Cape Cod Marine').isActive, true);
    await assertQuiet();
  });

  it('an item made inactive in QuickBooks retires its product; a product activated in Dynamics makes it active', async () => {
    const item = itemNamed('Installation');
    assert.deepEqual(await stateOf('product', item.listId), [0, 1]);
    qb(
      `<ItemServiceModRq><ItemServiceMod><ListID>${item.listId}</ListID><EditSequence>${item.editSequence}</EditSequence><IsActive>false</IsActive></ItemServiceMod></ItemServiceModRq>`,
    );
    const cycle = await suite.stack.cycle('east');
    assert.equal(cycle.outcomes['item:updated'], 1);
    assert.deepEqual(await stateOf('product', item.listId), [1, 2]);
    await assertQuiet();

    const product = await row('product', item.listId);
    await suite.stack.dataverse.update(ENTITY_SETS.product, String(product.productid), { statecode: 0, statuscode: 1 });
    await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.equal(itemNamed('Installation').isActive, true);
    await assertQuiet();
  });

  it('a customer and an item deleted in QuickBooks deactivate and mark their rows, which stay and are no longer synced', async () => {
    // A customer without transactions or jobs, and an item on no invoice: QuickBooks refuses to delete the others.
    const customer = customerNamed('Hudson Valley Farms');
    const account = await row('account', customer.listId);
    const item = qb(
      `<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>Old Stapler</Name><SalesOrPurchase><Desc>Stapler</Desc><Price>12.00</Price><AccountRef><FullName>Sales</FullName></AccountRef></SalesOrPurchase></ItemNonInventoryAdd></ItemNonInventoryAddRq>`,
    )[0] as SyncedItem;
    await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(await stateOf('product', item.listId), [0, 1]);

    for (const [type, listId] of [
      ['Customer', customer.listId],
      ['ItemNonInventory', item.listId],
    ]) {
      const [rs] = parseQbxmlResponse(
        suite.stack.quickbooks.files.east!.processRequest(
          qbxml(`<ListDelRq><ListDelType>${type}</ListDelType><ListID>${listId}</ListID></ListDelRq>`),
        ),
      );
      assert.equal(rs?.statusCode, 0, rs?.statusMessage);
    }
    const cycle = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(cycle.failed, []);
    assert.equal(cycle.outcomes['customer:deleted'], 1, JSON.stringify(cycle.outcomes));
    assert.equal(cycle.outcomes['item:deleted'], 1, JSON.stringify(cycle.outcomes));
    const kept = await row('account', customer.listId);
    assert.equal(kept.accountid, account.accountid, 'the account is kept, not deleted');
    assert.deepEqual([kept.statecode, kept.statuscode], [1, 2]);
    assert.match(String(kept.qbsync_qbdeletedon), /^\d{4}-\d{2}-\d{2}T/);
    assert.deepEqual(await stateOf('product', item.listId), [1, 2]);
    const run = await suite.env.client.workflow.getHandle(`qb/east/customer/${customer.listId}`).result();
    assert.match(String((run as { note?: string }).note), /deleted in QuickBooks/);

    // The deletion is read once; the marked rows do not go back to QuickBooks, even when edited in Dynamics.
    await suite.stack.dataverse.update(ENTITY_SETS.account, String(account.accountid), { telephone1: '518-555-0100' });
    const after = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(after.failed, []);
    assert.equal(after.handedOff['qb:customer'] ?? 0, 0);
    assert.equal(after.handedOff['qb:item'] ?? 0, 0);
    assert.equal(after.handedOff['d365:account'] ?? 0, 0, JSON.stringify(after.dynamicsIds));
  });

  it('a read continuing as new hands its deletions off before it goes, once they would weigh on what it carries', async () => {
    const names = ['Carry Deleted One', 'Carry Deleted Two', 'Carry Deleted Three'];
    for (const name of names) qb(`<CustomerAddRq><CustomerAdd><Name>${name}</Name></CustomerAdd></CustomerAddRq>`);
    await suite.stack.cycle('east');
    await suite.stack.settle();
    const deleted = names.map(customerNamed);
    for (const c of deleted) assert.deepEqual(await stateOf('account', c.listId), [0, 1]);
    for (const c of deleted) {
      const [rs] = parseQbxmlResponse(
        suite.stack.quickbooks.files.east!.processRequest(
          qbxml(`<ListDelRq><ListDelType>Customer</ListDelType><ListID>${c.listId}</ListID></ListDelRq>`),
        ),
      );
      assert.equal(rs?.statusCode, 0, rs?.statusMessage);
    }
    // New customers enough for a read of several pages, each run of the cycle reading one page and continuing as new.
    for (let i = 0; i < 25; i++) {
      qb(`<CustomerAddRq><CustomerAdd><Name>Carry filler ${i}</Name></CustomerAdd></CustomerAddRq>`);
    }
    const since = new Date().toISOString();
    const cycle = await suite.stack.cycle('east', { historyLimit: 1, pageSize: 10, carriedFactsBytesAtMost: 1 });
    await suite.stack.settle();
    assert.deepEqual(cycle.failed, []);
    assert.equal(cycle.outcomes['customer:deleted'], 3, JSON.stringify(cycle.outcomes));
    for (const c of deleted) assert.deepEqual(await stateOf('account', c.listId), [1, 2]);

    // What each run carried into the next: never the deletions, which went before it continued as new.
    const carried: { deletions: unknown[] }[] = [];
    for await (const run of suite.env.client.workflow.list({
      query: `WorkflowId = 'poll/east' AND StartTime >= '${since}'`,
    })) {
      const history = await suite.env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const payload = event.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads?.[0]?.data;
        if (payload) carried.push((JSON.parse(Buffer.from(payload).toString()) as PollCycleInput).carried!);
      }
    }
    assert.ok(carried.length >= 1, 'the read continued as new');
    assert.deepEqual(
      carried.map((c) => c.deletions.length),
      carried.map(() => 0),
    );
  });

  it('a record run again after its deletion (a retried run, a replay) finds the deletion in QuickBooks and applies it', async () => {
    const customer = customerNamed('Brandywine Florist');
    const account = await row('account', customer.listId);
    const [rs] = parseQbxmlResponse(
      suite.stack.quickbooks.files.east!.processRequest(
        qbxml(`<ListDelRq><ListDelType>Customer</ListDelType><ListID>${customer.listId}</ListID></ListDelRq>`),
      ),
    );
    assert.equal(rs?.statusCode, 0, rs?.statusMessage);
    // As the failed-record retry starts it: the ListID only, no record.
    const handle = await suite.env.client.workflow.start(quickbooksRecordSync, {
      taskQueue: 'sync-e2e',
      workflowId: `qb/east/customer/${customer.listId}`,
      args: [
        {
          connection: 'east',
          entity: 'customer',
          listId: customer.listId,
          settings: suite.stack.settings.get('east')!,
          choices: { customerTypes: {}, classes: {}, terms: {} },
        },
      ],
    });
    await suite.stack.settle();
    const result = await handle.result();
    assert.equal(result.outcome, 'deleted');
    assert.equal(result.targetId, account.accountid);
    assert.deepEqual(await stateOf('account', customer.listId), [1, 2]);
  });

  it('an invoice deleted in QuickBooks shows on its invoice row: Canceled, status Deleted, nothing owed, the invoice still named', async () => {
    let order: Record<string, unknown> | undefined;
    for await (const r of suite.stack.dataverse.queryRows(ENTITY_SETS.salesorder, {
      select: ['salesorderid', 'statecode', 'qbsync_qbtxnid', 'qbsync_invoicenumber'],
      filter: 'qbsync_qbtxnid ne null',
    })) {
      order = r;
      break;
    }
    assert.ok(order, 'an invoiced order');
    const invoiceRow = async (): Promise<Record<string, unknown> | undefined> => {
      for await (const r of suite.stack.dataverse.queryRows(ENTITY_SETS.invoice, {
        select: [
          'invoiceid',
          'statecode',
          'statuscode',
          'qbsync_qbtxnid',
          'qbsync_invoicenumber',
          'qbsync_balance',
          'qbsync_invoicestatus',
        ],
        filter: `_salesorderid_value eq ${String(order?.salesorderid)}`,
      })) {
        return r;
      }
      return undefined;
    };
    assert.equal((await invoiceRow())?.qbsync_invoicestatus, 'Open');
    const txnId = String(order.qbsync_qbtxnid);
    const [rs] = parseQbxmlResponse(
      suite.stack.quickbooks.files.east!.processRequest(
        qbxml(`<TxnDelRq><TxnDelType>Invoice</TxnDelType><TxnID>${txnId}</TxnID></TxnDelRq>`),
      ),
    );
    assert.equal(rs?.statusCode, 0, rs?.statusMessage);

    const cycle = await suite.stack.cycle('east');
    assert.equal(cycle.invoicesDeleted, 1);
    const after = await invoiceRow();
    assert.equal(after?.qbsync_invoicestatus, 'Deleted');
    assert.equal(after?.qbsync_balance, '0.00');
    assert.deepEqual([after?.statecode, after?.statuscode], [3, 100003], 'Canceled');
    assert.equal(after?.qbsync_qbtxnid, txnId);
    assert.equal(after?.qbsync_invoicenumber, order.qbsync_invoicenumber);
    const stillInvoiced = await suite.stack.dataverse.retrieve(ENTITY_SETS.salesorder, String(order.salesorderid));
    assert.equal(stillInvoiced?.statecode, 4);
    assert.equal(stillInvoiced?.qbsync_qbtxnid, txnId);

    const again = await suite.stack.cycle('east');
    assert.equal(again.invoicesDeleted ?? 0, 0);

    // Reconcile agrees: the deleted customer, item and invoice are gone on one side and marked on the other.
    const report = await suite.stack.reconcile('east');
    if (!report.inAgreement) console.log(JSON.stringify(report, null, 1).slice(0, 4000));
    assert.equal(report.inAgreement, true);
  });

  it('the Dataverse sandbox refuses a status that does not belong to the state, as Dataverse does', async () => {
    const account = await row('account', customerNamed('Harbor Lights Cafe').listId);
    await assert.rejects(
      suite.stack.dataverse.update(ENTITY_SETS.account, String(account.accountid), { statecode: 1, statuscode: 1 }),
      (err: unknown) => err instanceof DataverseValidationError && /not a valid status code/.test(err.message),
    );
  });
});
