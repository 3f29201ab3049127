import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BulkRowCreator } from '../../src/activities/bulkCreates';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { DataverseError } from '../../src/dataverse/errors';
import { DEMO_UNIT_ID } from '../../src/sandbox/dataverse/demoOrganisation';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { connectToSandbox } from '../support/dataverseSandbox';

// Issue 15: the price-list items of new products, created by concurrent record activities, travel in one
// continue-on-error $batch; each activity gets its own row's id, and a row Dataverse refuses fails alone.
describe('rows created by concurrent activities travel in one $batch', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-bulk-creates-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true, keyActivationDelayMs: 0 });
    connection = connectToSandbox(sandbox);
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each caller gets its own new row; a refused row fails alone; one request', async () => {
    const priceList = await connection.client.create(ENTITY_SETS.pricelevel, { name: `Bulk list ${randomUUID()}` });
    const products = sandbox.records.store.all('product').slice(0, 2);
    assert.equal(products.length, 2, 'the demo organisation has no two products');
    const item = (productId: string, amount: number) => ({
      'pricelevelid@odata.bind': `/pricelevels(${priceList.id})`,
      'productid@odata.bind': `/products(${productId})`,
      'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      amount,
    });
    const creator = new BulkRowCreator(connection.client, ENTITY_SETS.productpricelevel, {
      maxRows: 3,
      gatherMs: 600_000,
    });
    const before = sandbox.stats();

    const settled = await Promise.allSettled([
      creator.create(item(String(products[0]!.productid), 10)),
      // A product that does not exist: Dataverse refuses this part of the batch.
      creator.create(item(randomUUID(), 20)),
      creator.create(item(String(products[1]!.productid), 30)),
    ]);

    const after = sandbox.stats();
    assert.equal(after.requests - before.requests, 1, 'the rows did not travel in one request');
    assert.equal(after.requestsByKind['POST $batch']! - (before.requestsByKind['POST $batch'] ?? 0), 1);
    assert.equal(settled[1]!.status, 'rejected');
    assert.ok((settled[1] as PromiseRejectedResult).reason instanceof DataverseError);
    const stored = sandbox.records.store.all('productpricelevel');
    for (const [i, amount] of [
      [0, 10],
      [2, 30],
    ] as const) {
      assert.equal(settled[i]!.status, 'fulfilled', `row ${i} failed with the refused one`);
      const { id } = (settled[i] as PromiseFulfilledResult<{ id: string }>).value;
      const row = stored.find((r) => r.productpricelevelid === id);
      assert.ok(row, `row ${i} answered an id Dataverse does not hold`);
      assert.equal((row.productid as { id?: string }).id, products[i === 0 ? 0 : 1]!.productid);
      assert.equal(Number(row.amount), amount);
    }
  });
});
