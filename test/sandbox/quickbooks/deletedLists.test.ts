import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage } from '../../../src/qbxml/build';
import { parseQbxmlResponse } from '../../../src/qbxml/parse';
import type { ListDeletedRet, QbxmlResponse } from '../../../src/qbxml/requests';
import { CompanyFileSimulator } from '../../../src/sandbox/quickbooks/companyFile';
import { seedDemoCompany } from '../../../src/sandbox/quickbooks/demoCompany';

function msg(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML><QBXMLMsgsRq onError="continueOnError">${body}</QBXMLMsgsRq></QBXML>`;
}

function company(): { sim: CompanyFileSimulator; advance(seconds: number): void } {
  let t = Date.parse('2024-03-01T17:00:00Z');
  const sim = new CompanyFileSimulator({ name: 'test', now: () => new Date(t) });
  return { sim, advance: (s) => (t += s * 1000) };
}

const send = (sim: CompanyFileSimulator, body: string): QbxmlResponse => {
  const [rs] = parseQbxmlResponse(sim.processRequest(msg(body)));
  assert.ok(rs);
  return rs;
};
const addCustomer = (sim: CompanyFileSimulator, name: string, extra = ''): string => {
  const rs = send(sim, `<CustomerAddRq><CustomerAdd><Name>${name}</Name>${extra}</CustomerAdd></CustomerAddRq>`);
  assert.equal(rs.statusCode, 0, rs.statusMessage);
  return (rs.records[0] as { listId: string }).listId;
};
const del = (sim: CompanyFileSimulator, type: string, listId: string): QbxmlResponse =>
  send(sim, `<ListDelRq><ListDelType>${type}</ListDelType><ListID>${listId}</ListID></ListDelRq>`);

describe('QuickBooks simulator: deleting list records and ListDeletedQuery', () => {
  it('a deleted customer is gone from queries and reported by ListDeletedQuery with its times and full name', () => {
    const { sim, advance } = company();
    const id = addCustomer(sim, 'Old Mill &amp; Sons');
    advance(3600);
    const deleted = del(sim, 'Customer', id);
    assert.equal(deleted.statusCode, 0, deleted.statusMessage);
    const gone = send(sim, `<CustomerQueryRq><ListID>${id}</ListID></CustomerQueryRq>`);
    assert.equal(gone.records.length, 0);

    const query = buildQbxmlMessage([
      {
        type: 'ListDeletedQuery',
        requestId: 'd',
        listDelTypes: ['Customer', 'Vendor'],
        fromDeletedDate: '2024-03-01T09:30:00-08:00',
      },
    ]);
    const [rs] = parseQbxmlResponse(sim.processRequest(query));
    assert.equal(rs?.statusCode, 0, rs?.statusMessage);
    const ret = rs?.records[0] as ListDeletedRet;
    assert.equal(ret.kind, 'ListDeleted');
    assert.equal(ret.listDelType, 'Customer');
    assert.equal(ret.listId, id);
    assert.equal(ret.fullName, 'Old Mill & Sons');
    assert.equal(Date.parse(ret.timeDeleted) - Date.parse(ret.timeCreated ?? ''), 3600_000);
  });

  it('the date range and the types filter the deletions; none found is status 1', () => {
    const { sim, advance } = company();
    const id = addCustomer(sim, 'Gone Tomorrow');
    advance(60);
    del(sim, 'Customer', id);
    const after = send(
      sim,
      '<ListDeletedQueryRq><ListDelType>Customer</ListDelType><DeletedDateRangeFilter><FromDeletedDate>2024-03-02T00:00:00Z</FromDeletedDate></DeletedDateRangeFilter></ListDeletedQueryRq>',
    );
    assert.equal(after.statusCode, 1);
    const vendors = send(sim, '<ListDeletedQueryRq><ListDelType>Vendor</ListDelType></ListDeletedQueryRq>');
    assert.equal(vendors.statusCode, 1);
  });

  it('refuses what QuickBooks refuses: no ListDelType, an unknown type, a type that is not the record, a customer with jobs', () => {
    const { sim } = company();
    const parent = addCustomer(sim, 'Parent Co');
    addCustomer(sim, 'Fit-out', `<ParentRef><ListID>${parent}</ListID></ParentRef>`);
    assert.throws(() => sim.processRequest(msg('<ListDeletedQueryRq></ListDeletedQueryRq>')));
    assert.throws(() =>
      sim.processRequest(msg('<ListDeletedQueryRq><ListDelType>Spaceship</ListDelType></ListDeletedQueryRq>')),
    );
    assert.equal(del(sim, 'Vendor', parent).statusCode, 3120);
    const inUse = del(sim, 'Customer', parent);
    assert.equal(inUse.statusCode, 3175);
    assert.match(inUse.statusMessage, /deleting/);
    assert.equal(send(sim, `<CustomerQueryRq><ListID>${parent}</ListID></CustomerQueryRq>`).records.length, 1);
  });

  it('a deleted invoice is gone and reported by TxnDeletedQuery with its number; a wrong type is refused', () => {
    const { sim, advance } = company();
    seedDemoCompany(sim, { office: 'east' });
    const customer = addCustomer(sim, 'Buyer Co');
    const invoice = send(
      sim,
      `<InvoiceAddRq><InvoiceAdd><CustomerRef><ListID>${customer}</ListID></CustomerRef><RefNumber>7001</RefNumber>` +
        '<InvoiceLineAdd><ItemRef><FullName>Installation</FullName></ItemRef><Desc>Work</Desc><Amount>10.00</Amount></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>',
    );
    assert.equal(invoice.statusCode, 0, invoice.statusMessage);
    const txnId = (invoice.records[0] as { txnId: string }).txnId;
    advance(60);
    assert.equal(
      send(sim, `<TxnDelRq><TxnDelType>SalesOrder</TxnDelType><TxnID>${txnId}</TxnID></TxnDelRq>`).statusCode,
      3120,
    );
    const deleted = send(sim, `<TxnDelRq><TxnDelType>Invoice</TxnDelType><TxnID>${txnId}</TxnID></TxnDelRq>`);
    assert.equal(deleted.statusCode, 0, deleted.statusMessage);
    assert.equal(send(sim, `<InvoiceQueryRq><TxnID>${txnId}</TxnID></InvoiceQueryRq>`).records.length, 0);
    const rs = send(sim, '<TxnDeletedQueryRq><TxnDelType>Invoice</TxnDelType></TxnDeletedQueryRq>');
    assert.equal(rs.statusCode, 0, rs.statusMessage);
    assert.deepEqual(
      rs.records.map((r) => [r.kind, (r as { txnId: string }).txnId, (r as { refNumber?: string }).refNumber]),
      [['TxnDeleted', txnId, '7001']],
    );
    // Customers with transactions cannot be deleted; once the invoice is gone, it can.
    assert.equal(del(sim, 'Customer', customer).statusCode, 0);
  });
});
