import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage } from '../../../src/qbxml/build';
import { parseQbxmlResponse } from '../../../src/qbxml/parse';
import type { InvoiceRet, QbxmlRequest } from '../../../src/qbxml/requests';
import { CompanyFileSimulator } from '../../../src/sandbox/quickbooks/companyFile';

function send(file: CompanyFileSimulator, req: QbxmlRequest) {
  const [rs] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([req])));
  assert.equal(rs?.statusCode, 0, rs?.statusMessage);
  return rs!.records[0] as unknown;
}

/** A company file with a 7.25 % tax item, a taxable and a non-taxable item, and two customers. */
function company(): CompanyFileSimulator {
  const file = new CompanyFileSimulator({ name: 'sales-tax' });
  file.defineSalesTax({
    items: [
      { name: 'CA Sales Tax', ratePercent: '7.25' },
      { name: 'Out of State', ratePercent: '0' },
    ],
  });
  const item = (name: string, code: string): QbxmlRequest => ({
    type: 'ItemNonInventoryAdd',
    requestId: `item-${name}`,
    fields: {
      name,
      salesTaxCodeRef: { fullName: code },
      salesOrPurchase: { price: '10.00', accountRef: { fullName: 'Sales' } },
    },
  });
  send(file, item('Widget', 'Tax'));
  send(file, item('Labour', 'Non'));
  const customer = (name: string, code: string): QbxmlRequest => ({
    type: 'CustomerAdd',
    requestId: `cust-${name}`,
    fields: { name, salesTaxCodeRef: { fullName: code }, itemSalesTaxRef: { fullName: 'CA Sales Tax' } },
  });
  send(file, customer('Retail Buyer', 'Tax'));
  send(file, customer('Reseller', 'Non'));
  return file;
}

function invoice(file: CompanyFileSimulator, customer: string, extra: Record<string, unknown> = {}): InvoiceRet {
  return send(file, {
    type: 'InvoiceAdd',
    requestId: `inv-${customer}`,
    fields: {
      customerRef: { fullName: customer },
      lines: [
        { itemRef: { fullName: 'Widget' }, quantity: '3', rate: '33.33' },
        { itemRef: { fullName: 'Labour' }, quantity: '1', rate: '100.00' },
        // A line's own code wins over its item's.
        { itemRef: { fullName: 'Labour' }, quantity: '1', rate: '20.00', salesTaxCodeRef: { fullName: 'Tax' } },
      ],
      ...extra,
    },
  } as QbxmlRequest) as InvoiceRet;
}

describe('sales tax, as QuickBooks computes it from tax codes and tax items', () => {
  it('taxes the taxable lines at the tax item’s rate, rounded to the cent, and bills the tax', () => {
    const file = company();
    const ret = invoice(file, 'Retail Buyer');
    assert.equal(ret.subtotal, '219.99');
    // (99.99 + 20.00) × 7.25 % = 8.699275 → 8.70
    assert.equal(ret.salesTaxPercentage, '7.25');
    assert.equal(ret.salesTaxTotal, '8.70');
    assert.equal(ret.balanceRemaining, '228.69');
  });

  it('taxes nothing for a customer whose code is non-taxable, or on an invoice naming a 0 % item', () => {
    const file = company();
    const reseller = invoice(file, 'Reseller');
    assert.equal(reseller.salesTaxTotal, '0.00');
    assert.equal(reseller.balanceRemaining, '219.99');
    const outOfState = invoice(file, 'Retail Buyer', { itemSalesTaxRef: { fullName: 'Out of State' } });
    assert.equal(outOfState.salesTaxTotal, '0.00');
    // The invoice's customer code overrides the customer's own.
    const exempt = invoice(file, 'Retail Buyer', { customerSalesTaxCodeRef: { fullName: 'Non' } });
    assert.equal(exempt.salesTaxTotal, '0.00');
  });

  it('lets payments settle the total with tax, not the subtotal alone', () => {
    const file = company();
    const ret = invoice(file, 'Retail Buyer');
    file.payInvoice(ret.txnId, '219.99');
    const [rs] = parseQbxmlResponse(
      file.processRequest(buildQbxmlMessage([{ type: 'InvoiceQuery', requestId: 'q', txnIds: [ret.txnId] }])),
    );
    const after = rs?.records[0] as InvoiceRet;
    assert.equal(after.balanceRemaining, '8.70');
    assert.equal(after.isPaid, false);
  });
});
