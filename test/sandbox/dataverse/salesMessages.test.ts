import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { demoOrderId } from '../../../src/sandbox/dataverse/demoOrganisation';
import { type DataverseSandbox } from '../../../src/sandbox/dataverse/server';
import { startForTest, type WebApiClient } from './sandboxClient';

/** Dataverse's CannotUpdateBecauseItIsReadOnly. */
const READ_ONLY = '0x8004022e';

describe('Dataverse sandbox: closed orders and invoices are read-only; the order messages exist', () => {
  let sandbox: DataverseSandbox;
  let client: WebApiClient;

  before(async () => {
    ({ sandbox, client } = await startForTest('salesmessages', { seed: true }));
    // A column a solution adds to orders and invoices, as `qbsync provision` does.
    for (const table of ['salesorder', 'invoice']) {
      const created = await client.call('POST', `EntityDefinitions(LogicalName='${table}')/Attributes`, {
        '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata',
        SchemaName: 'qbsync_Balance',
        MaxLength: 40,
      });
      assert.equal(created.status, 204, created.text);
    }
  });
  after(async () => sandbox.close());

  const errorOf = (r: { json: () => Record<string, unknown> }): { code: string; message: string } =>
    r.json().error as { code: string; message: string };

  const newOrder = async (name: string): Promise<string> => {
    const source = (await client.call('GET', `salesorders(${demoOrderId('Spring fleet refresh')})`)).json();
    const created = await client.call(
      'POST',
      'salesorders',
      {
        name,
        'customerid_account@odata.bind': `/accounts(${String(source._customerid_value)})`,
        freightamount: 12.5,
      },
      { Prefer: 'return=representation' },
    );
    assert.equal(created.status, 201, created.text);
    const orderId = String(created.json().salesorderid);
    const line = await client.call('POST', 'salesorderdetails', {
      'salesorderid@odata.bind': `/salesorders(${orderId})`,
      isproductoverridden: true,
      productdescription: 'Site survey',
      quantity: 2,
      priceperunit: 150,
    });
    assert.equal(line.status, 204, line.text);
    return orderId;
  };

  it('refuses any column of an invoiced order, the columns a solution added included; its state may still change', async () => {
    const orderId = await newOrder('Read-only order');
    const active = await client.call('PATCH', `salesorders(${orderId})`, { qbsync_balance: '1.00' });
    assert.equal(active.status, 204, 'an active order is editable');
    const invoiced = await client.call('PATCH', `salesorders(${orderId})`, { statecode: 4, statuscode: 100003 });
    assert.equal(invoiced.status, 204, invoiced.text);
    for (const body of [{ qbsync_balance: '0.00' }, { name: 'renamed' }, { description: 'x', statecode: 4 }]) {
      const refused = await client.call('PATCH', `salesorders(${orderId})`, body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(errorOf(refused).code, READ_ONLY);
      assert.match(errorOf(refused).message, /cannot be updated because it is read-only/);
    }
    const row = (await client.call('GET', `salesorders(${orderId})?$select=qbsync_balance,name`)).json();
    assert.equal(row.qbsync_balance, '1.00');
    assert.equal(row.name, 'Read-only order');
  });

  it('ConvertSalesOrderToInvoice makes an Active invoice with the order lines, linked to the order, order state untouched', async () => {
    const orderId = await newOrder('Convert me');
    const converted = await client.call('POST', 'ConvertSalesOrderToInvoice', {
      SalesOrderId: orderId,
      ColumnSet: { AllColumns: false, Columns: ['name', 'totalamount'] },
    });
    assert.equal(converted.status, 200, converted.text);
    const answer = converted.json();
    assert.equal(answer['@odata.context'], `${sandbox.webApiUrl}$metadata#invoices/$entity`);
    const invoiceId = String(answer.invoiceid);
    assert.equal(answer.name, 'Convert me');
    assert.equal(answer.totalamount, 312.5);
    const invoice = (await client.call('GET', `invoices(${invoiceId})?$expand=invoice_details`)).json();
    assert.equal(invoice._salesorderid_value, orderId);
    assert.equal(invoice.statecode, 0);
    assert.equal(invoice.statuscode, 1);
    assert.match(String(invoice.invoicenumber), /^INV-/);
    const lines = invoice.invoice_details as Array<Record<string, unknown>>;
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.productdescription, 'Site survey');
    assert.equal(lines[0]?.extendedamount, 300);
    const order = (await client.call('GET', `salesorders(${orderId})?$select=statecode`)).json();
    assert.equal(order.statecode, 0);
    const byOrder = (
      await client.call('GET', `invoices?$select=invoiceid&$filter=_salesorderid_value eq ${orderId}`)
    ).json().value as unknown[];
    assert.equal(byOrder.length, 1);
  });

  it('a Paid invoice is read-only until reactivated; Paid takes only Complete or Partial', async () => {
    const orderId = await newOrder('Pay me');
    const invoiceId = String(
      (
        await client.call('POST', 'ConvertSalesOrderToInvoice', {
          SalesOrderId: orderId,
          ColumnSet: { AllColumns: true },
        })
      ).json().invoiceid,
    );
    const wrongStatus = await client.call('PATCH', `invoices(${invoiceId})`, { statecode: 2, statuscode: 4 });
    assert.equal(wrongStatus.status, 400);
    const paid = await client.call('PATCH', `invoices(${invoiceId})`, { statecode: 2, statuscode: 100001 });
    assert.equal(paid.status, 204, paid.text);
    const refused = await client.call('PATCH', `invoices(${invoiceId})`, { qbsync_balance: '5.00' });
    assert.equal(refused.status, 400);
    assert.equal(errorOf(refused).code, READ_ONLY);
    const line = await client.call('POST', 'invoicedetails', {
      'invoiceid@odata.bind': `/invoices(${invoiceId})`,
      isproductoverridden: true,
      productdescription: 'Late fee',
      priceperunit: 5,
    });
    assert.equal(line.status, 400);
    assert.equal(errorOf(line).code, READ_ONLY);
    const reactivated = await client.call('PATCH', `invoices(${invoiceId})`, { statecode: 0, statuscode: 1 });
    assert.equal(reactivated.status, 204);
    const edited = await client.call('PATCH', `invoices(${invoiceId})`, { qbsync_balance: '5.00' });
    assert.equal(edited.status, 204);
    const canceled = await client.call('PATCH', `invoices(${invoiceId})`, { statecode: 3, statuscode: 100003 });
    assert.equal(canceled.status, 204);
    assert.equal((await client.call('PATCH', `invoices(${invoiceId})`, { name: 'x' })).status, 400);
  });

  it('FulfillSalesOrder and CancelSalesOrder close an open order; a canceled order cannot be converted', async () => {
    const fulfilled = await newOrder('Fulfil me');
    const fulfil = await client.call('POST', 'FulfillSalesOrder', {
      OrderClose: { subject: 'done', 'salesorderid@odata.bind': `/salesorders(${fulfilled})` },
      Status: 100001,
    });
    assert.equal(fulfil.status, 204, fulfil.text);
    const row = (await client.call('GET', `salesorders(${fulfilled})?$select=statecode,statuscode`)).json();
    assert.deepEqual([row.statecode, row.statuscode], [3, 100001]);
    const again = await client.call('POST', 'CancelSalesOrder', {
      OrderClose: { 'salesorderid@odata.bind': `/salesorders(${fulfilled})` },
      Status: -1,
    });
    assert.equal(again.status, 400);

    const canceled = await newOrder('Cancel me');
    const cancel = await client.call('POST', 'CancelSalesOrder', {
      OrderClose: { 'salesorderid@odata.bind': `/salesorders(${canceled})` },
      Status: -1,
    });
    assert.equal(cancel.status, 204, cancel.text);
    const state = (await client.call('GET', `salesorders(${canceled})?$select=statecode,statuscode`)).json();
    assert.deepEqual([state.statecode, state.statuscode], [2, 4]);
    const convert = await client.call('POST', 'ConvertSalesOrderToInvoice', {
      SalesOrderId: canceled,
      ColumnSet: { AllColumns: true },
    });
    assert.equal(convert.status, 400);
    const missing = await client.call('POST', 'ConvertSalesOrderToInvoice', { ColumnSet: { AllColumns: true } });
    assert.equal(missing.status, 400);
  });
});
