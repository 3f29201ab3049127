import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dataverseRecordWorkflowId,
  invoiceLinkToOrder,
  numericColumns,
  orderIdOfInvoiceLink,
  parseRecordWorkflowId,
  quickBooksRecordWorkflowId,
  RecordIdError,
  TABLES,
  WEBHOOK_TABLES,
  type SyncedTable,
  type TableEntry,
} from '../../src/mapping/entityRegistry';
import { ACCOUNT_SYNC_COLUMNS, PRODUCT_SYNC_COLUMNS } from '../../src/mapping/syncBase';

const ORDER = '9a1c5e2f-6b7d-4e8f-a0b1-c2d3e4f5a6b7';

describe('entity registry: tables', () => {
  it('every synced column of accounts and products is in the select the sync reads', () => {
    const accountSelect: readonly string[] = TABLES.account.select;
    const productSelect: readonly string[] = TABLES.product.select;
    for (const column of ACCOUNT_SYNC_COLUMNS) assert.ok(accountSelect.includes(column), column);
    for (const column of PRODUCT_SYNC_COLUMNS) assert.ok(productSelect.includes(column), column);
  });

  it('each table selects its id column first and every money or decimal column it declares', () => {
    for (const table of Object.keys(TABLES) as SyncedTable[]) {
      const entry: TableEntry = TABLES[table];
      assert.equal(entry.select[0], entry.idColumn, table);
      for (const column of numericColumns(table)) assert.ok(entry.select.includes(column), `${table}.${column}`);
    }
  });

  it('quantities are decimals wherever they are read (one list, not one per reader)', () => {
    assert.deepEqual([...numericColumns('product')].sort(), ['price', 'quantityonhand', 'standardcost']);
    assert.ok(numericColumns('salesorderdetail').includes('quantity'));
  });

  it('webhooks start syncs only for tables that flow to QuickBooks', () => {
    assert.deepEqual([...WEBHOOK_TABLES].sort(), ['account', 'opportunity', 'product', 'salesorder']);
  });
});

describe('entity registry: record workflow ids', () => {
  const cases: { id: string; parsed: ReturnType<typeof parseRecordWorkflowId> }[] = [
    { id: `d365/salesorder/${ORDER}`, parsed: { side: 'dynamics', entity: 'salesorder', id: ORDER } },
    { id: 'd365/account/abc', parsed: { side: 'dynamics', entity: 'account', id: 'abc' } },
    {
      id: 'qb/east/customer/80000001-1234567890',
      parsed: { side: 'quickbooks', connection: 'east', entity: 'customer', listId: '80000001-1234567890' },
    },
    { id: 'qb/east/item/8000', parsed: { side: 'quickbooks', connection: 'east', entity: 'item', listId: '8000' } },
    { id: 'd365/contact/abc', parsed: null },
    { id: 'qb/east/invoice/1-2', parsed: null },
    { id: 'qbfile/east', parsed: null },
    { id: 'poll/east', parsed: null },
    { id: 'd365/account', parsed: null },
    { id: 'qb/east/customer', parsed: null },
  ];
  for (const { id, parsed } of cases) {
    it(`${id} → ${parsed ? parsed.side : 'not a record'}`, () => assert.deepEqual(parseRecordWorkflowId(id), parsed));
  }

  it('built ids parse back to the record they name', () => {
    const dynamics = dataverseRecordWorkflowId('salesorder', ORDER.toUpperCase());
    assert.equal(dynamics, `d365/salesorder/${ORDER}`);
    assert.deepEqual(parseRecordWorkflowId(dynamics), { side: 'dynamics', entity: 'salesorder', id: ORDER });
    const quickbooks = quickBooksRecordWorkflowId('west', 'vendor', '8000-AB');
    assert.equal(quickbooks, 'qb/west/vendor/8000-AB');
    assert.deepEqual(parseRecordWorkflowId(quickbooks), {
      side: 'quickbooks',
      connection: 'west',
      entity: 'vendor',
      listId: '8000-AB',
    });
  });

  it('refuses parts that would make two records share an id', () => {
    assert.throws(() => quickBooksRecordWorkflowId('a/b', 'customer', '1'), RecordIdError);
    assert.throws(() => dataverseRecordWorkflowId('account', ''), RecordIdError);
    assert.throws(() => dataverseRecordWorkflowId('account', ' x'), RecordIdError);
  });
});

describe('entity registry: the invoice → order link', () => {
  it('is written as the order id in braces, upper-case, and parsed back to the order id', () => {
    const link = invoiceLinkToOrder(ORDER);
    assert.equal(link, `{${ORDER.toUpperCase()}}`);
    assert.equal(orderIdOfInvoiceLink(link ?? undefined), ORDER);
  });

  const parses: [string | undefined, string | null][] = [
    [`{${ORDER.toUpperCase()}}`, ORDER],
    [ORDER.toUpperCase(), ORDER],
    [` {${ORDER}} `, ORDER],
    ['{not-a-guid}', null],
    ['', null],
    [undefined, null],
  ];
  for (const [externalGuid, orderId] of parses) {
    it(`ExternalGUID ${JSON.stringify(externalGuid)} → ${String(orderId)}`, () =>
      assert.equal(orderIdOfInvoiceLink(externalGuid), orderId));
  }

  it('writes no link for an id QuickBooks would refuse', () => {
    assert.equal(invoiceLinkToOrder('ORD-1'), null);
    assert.equal(invoiceLinkToOrder(`{${ORDER}}`), null);
  });
});
