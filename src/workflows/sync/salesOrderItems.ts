import { log, patched } from '@temporalio/workflow';
import type { SyncContext } from '../../activities/syncContext';
import type { ProductForQuickBooks } from '../../activities/dataversePairedRows';
import type { SalesOrderForInvoice } from '../../activities/dataverseSalesOrders';
import { itemToProduct, type SyncedItem } from '../../mapping/itemProduct';
import { ROW_MERGE_ATTEMPTS } from '../../mapping/rereadLimits';
import { productSyncFields } from '../../mapping/syncBase';
import { dataverse } from './activities';
import { ensureItem } from './dynamicsRowToQuickBooks';
import { readItem } from './quickbooksRecords';
import { mappedOrFail } from './recordOutcome';
import { isStaleRow } from './rowBaseOverEdit';

/**
 * productid → ListID of the item in the order's (or won opportunity's) company file. A product synced from this file uses its own item; one
 * from another file (or created in Dynamics) is matched by name, and created when the file has no such item.
 */
export async function itemsForOrder(
  read: Pick<SalesOrderForInvoice, 'products'>,
  connection: string,
  ctx: SyncContext,
): Promise<Record<string, string>> {
  const map: Record<string, string> = {};
  for (const [productId, product] of Object.entries(read.products)) {
    if (product.companyFile === connection && product.listId) {
      map[productId] = product.listId;
      continue;
    }
    const existing = product.name ? await readItem(connection, { fullName: product.name }) : null;
    if (existing) {
      map[productId] = existing.listId;
      continue;
    }
    const full = await dataverse.readProductForQuickBooks({ productId });
    if (!full) continue; // the line then fails the mapping as an unknown product, naming the line
    const what = `Dynamics product ${product.name}`;
    const item = await ensureItem(connection, full.product, ctx, what);
    map[productId] = item.listId;
    if (patched('sales-order-item-pairing-if-match')) {
      await pairProductWithItem(productId, full, item, connection, what);
    } else if (!product.companyFile) {
      // Before the patch: decided on the order's view of the product and written without its ETag.
      const base = productSyncFields(mappedOrFail(itemToProduct(item, { companyFile: connection }), what));
      await dataverse.writeBackToRow({
        entity: 'product',
        rowId: productId,
        changes: { qbsync_companyfile: connection, qbsync_qblistid: item.listId },
        base,
      });
    }
  }
  return map;
}

/**
 * A product created in Dynamics is paired with the item of the first company file that sells it: decided on the
 * product as read just before its item was found or made, and written on that version only (If-Match). A product its
 * own run paired meanwhile, maybe with another company file's item, keeps that pairing; overwriting it from this
 * run's older view would orphan the item that run made. A row changed for another reason is read again.
 */
async function pairProductWithItem(
  productId: string,
  read: ProductForQuickBooks,
  item: SyncedItem,
  connection: string,
  what: string,
): Promise<void> {
  const unpaired = (p: ProductForQuickBooks['product']): boolean =>
    !p.qbsync_qblistid && (!p.qbsync_companyfile || p.qbsync_companyfile === connection);
  const base = productSyncFields(mappedOrFail(itemToProduct(item, { companyFile: connection }), what));
  let current: ProductForQuickBooks | null = read;
  for (let attempt = 1; attempt <= ROW_MERGE_ATTEMPTS && current && unpaired(current.product); attempt++) {
    try {
      await dataverse.writeBackToRow({
        entity: 'product',
        rowId: productId,
        etag: current.etag,
        changes: { qbsync_companyfile: connection, qbsync_qblistid: item.listId },
        base,
      });
      return;
    } catch (err) {
      if (!isStaleRow(err)) throw err;
    }
    current = await dataverse.readProductForQuickBooks({ productId });
  }
  if (current && unpaired(current.product)) {
    // Still changing: left unpaired rather than written blind; its own run or the next order pairs it.
    log.warn('product kept changing; not paired with the order item', { productId, item: item.listId });
  }
}
