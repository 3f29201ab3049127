import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createDataverseListRecordActivities, type ToDataverseResult } from '../../src/activities/dataverseListRecords';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { productChange } from '../../src/mapping/dynamicsToQuickBooks';
import { itemToProduct, itemValuesNotCarried, type SyncedItem } from '../../src/mapping/itemProduct';
import { DEFAULT_OWNERSHIP } from '../../src/mapping/ownership';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import { DEMO_PRICE_LIST_ID, DEMO_UNIT_ID } from '../../src/sandbox/dataverse/demoOrganisation';
import { DataverseFaults } from '../../src/sandbox/dataverse/faults';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import { seedDemoCompany } from '../../src/sandbox/quickbooks/demoCompany';
import { connectToSandbox } from '../support/dataverseSandbox';

/** Loses the answer of the next price-list item create only (the one POST of the item flow), after it committed. */
class LosePriceListItemAnswer extends DataverseFaults {
  armed = false;

  override loseAnswer(method: string, tag: string | undefined): boolean {
    if (!this.armed || method !== 'POST' || tag === undefined) return false;
    this.armed = false;
    return true;
  }
}

// Issue 13 item 5: Dataverse takes no default price list when a product is created, only once the product has a
// price-list item in that list. An item read from the QuickBooks simulator goes through the connector's activity to
// the Dataverse sandbox (which refuses the default on create): the product is created, then its price-list item,
// then the default is set; a retry after the price-list item's answer was lost makes no second item.
describe('a QuickBooks item becomes a product with its price-list item and default price list', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let file: CompanyFileSimulator;
  const faults = new LosePriceListItemAnswer();
  let syncItem: ReturnType<typeof createDataverseListRecordActivities>['syncItemToDataverse'];

  function item(fullName: string): SyncedItem {
    const [response] = parseQbxmlResponse(
      file.processRequest(buildQbxmlMessage([{ type: 'ItemQuery', requestId: 'i', fullNames: [fullName] }])),
    );
    const found = response?.records[0];
    assert.ok(found, `the demo company has ${fullName}`);
    return found as SyncedItem;
  }

  function run(synced: SyncedItem): Promise<ToDataverseResult> {
    const mapped = itemToProduct(synced, { companyFile: 'east' });
    assert.ok(mapped.ok, 'the item maps');
    return new MockActivityEnvironment().run<Parameters<typeof syncItem>, ToDataverseResult, typeof syncItem>(
      syncItem,
      {
        desired: mapped.value,
        qbModifiedAt: synced.timeModified ?? '',
        ownership: DEFAULT_OWNERSHIP,
        returnsToQuickBooks: true,
      },
    );
  }

  async function priceListItems(productId: string) {
    const rows = [];
    for await (const row of connection.client.queryRows('productpricelevels', {
      select: ['productpricelevelid', 'amount', '_pricelevelid_value', '_uomid_value'],
      filter: `_productid_value eq ${productId}`,
    })) {
      rows.push({ priceList: row._pricelevelid_value, unit: row._uomid_value, amount: row.amount });
    }
    return rows;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-item-price-list-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true, faults });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    syncItem = createDataverseListRecordActivities({ dataverse: connection.client }).syncItemToDataverse;
    file = new CompanyFileSimulator({ name: 'east' });
    seedDemoCompany(file, { office: 'east' });
  });

  after(async () => {
    await connection?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the product, then its price-list item, then makes that price list its default', async () => {
    const desk = item('Standing Desk');
    const result = await run(desk);
    assert.equal(result.outcome, 'created');
    const product = await connection.client.retrieve('products', result.rowId, {
      select: ['productid', 'statecode', '_pricelevelid_value'],
    });
    assert.equal(product?._pricelevelid_value, DEMO_PRICE_LIST_ID);
    assert.equal(product?.statecode, 0, 'published');
    assert.deepEqual(await priceListItems(result.rowId), [
      { priceList: DEMO_PRICE_LIST_ID, unit: DEMO_UNIT_ID, amount: 649 },
    ]);
  });

  it('a retry after the price-list item answer was lost writes no second item and still sets the default', async () => {
    const synced = item('Desk Lamp');
    faults.armed = true;
    await assert.rejects(run(synced), 'the attempt whose answer was lost fails');
    assert.equal(faults.armed, false, 'the price-list item create lost its answer');
    const retried = await run(synced);
    assert.deepEqual(await priceListItems(retried.rowId), [
      { priceList: DEMO_PRICE_LIST_ID, unit: DEMO_UNIT_ID, amount: 39.5 },
    ]);
    const product = await connection.client.retrieve('products', retried.rowId, {
      select: ['productid', '_pricelevelid_value'],
    });
    assert.equal(product?._pricelevelid_value, DEMO_PRICE_LIST_ID);
  });

  // Issue 13 item 3: Dataverse keeps a product price to the pricing precision (2) and refuses negative stock.
  function inventoryItem(listId: string, name: string, fields: { salesPrice: string; quantityOnHand: string }) {
    const desk = item('Standing Desk');
    assert.equal(desk.kind, 'ItemInventory');
    return { ...desk, listId, name, fullName: name, ...fields } as SyncedItem;
  }

  it('a price finer than Dataverse keeps is stored rounded, and the merge base holds what was stored: no Dynamics edit is seen', async () => {
    const result = await run(inventoryItem('80000F01-1', 'Fine Desk', { salesPrice: '12.345', quantityOnHand: '3' }));
    assert.equal(result.outcome, 'created');
    const row = await connection.client.retrieve('products', result.rowId, {
      select: [
        'productid',
        'name',
        'description',
        'price',
        'standardcost',
        'statecode',
        'qbsync_qblistid',
        'qbsync_syncbase',
      ],
    });
    assert.equal(row?.price, 12.35);
    assert.deepEqual(await priceListItems(result.rowId), [
      { priceList: DEMO_PRICE_LIST_ID, unit: DEMO_UNIT_ID, amount: 12.35 },
    ]);
    // The next poll lists this row as changed (the connector's own write): it must read as our echo, not as a price
    // edited in Dynamics that would be pushed to QuickBooks.
    assert.equal(productChange(row as Parameters<typeof productChange>[0], false), 'echo');
    const again = await run(inventoryItem('80000F01-1', 'Fine Desk', { salesPrice: '12.345', quantityOnHand: '3' }));
    assert.equal(again.outcome, 'unchanged', 'the same QuickBooks version writes nothing');
  });

  it('negative stock is not carried: the rest of the item is synced and the value reported', async () => {
    const synced = inventoryItem('80000F02-1', 'Short Desk', { salesPrice: '20', quantityOnHand: '-5' });
    const result = await run(synced);
    assert.equal(result.outcome, 'created');
    const row = await connection.client.retrieve('products', result.rowId, {
      select: ['productid', 'name', 'price', 'quantityonhand'],
    });
    assert.deepEqual([row?.name, row?.price, row?.quantityonhand], ['Short Desk', 20, null]);
    assert.match(itemValuesNotCarried(synced).join(), /quantityOnHand is not carried: -5 does not fit/);
  });
});
