import { type DataverseClient } from '../dataverse/client';
import { type BulkActionCalls } from './bulkCreates';
import { type BulkRowUpdater } from './bulkUpdates';
import {
  createDataverseListRecordActivities,
  type ListRecordReaders,
  type PartyBulkWriters,
} from './dataverseListRecords';
import { createDataversePairedRowActivities } from './dataversePairedRows';
import { createDataverseSalesOrderActivities, type SalesOrderReaders } from './dataverseSalesOrders';
import { createSalesOrderModeActivities } from './salesOrderToQuickBooksSalesOrder';
import { createWonOpportunityActivities } from './wonOpportunityToEstimate';

/**
 * Every activity that reaches Dataverse for the sync, grouped by flow: QuickBooks list records into rows
 * (`dataverseListRecords.ts`), rows paired with QuickBooks records and what changed (`dataversePairedRows.ts`), sales
 * orders and their invoices (`dataverseSalesOrders.ts`), orders sent as QuickBooks sales orders and the invoices linked
 * to them (`salesOrderToQuickBooksSalesOrder.ts`), won opportunities and their estimates (`wonOpportunityToEstimate.ts`). Their registered names are part of every recorded history,
 * so they stay as they are whichever file holds them.
 */
export interface DataverseActivityDeps {
  dataverse: DataverseClient;
  /** Price list that carries the QuickBooks sales price of synced products (default: the first active one). */
  priceListName?: string;
  /** The worker's bulk writers (issue 15); without them every write is its own request. */
  bulkWrites?: PartyBulkWriters & {
    /** Orders' conversions into invoice rows, in shared `$batch` calls; absent, each is a request of its own. */
    orderConversions?: BulkActionCalls;
  };
  /** The worker's bulk readers (issue 15); without them every read is its own request. */
  bulkReads?: ListRecordReaders & { salesOrders: SalesOrderReaders };
  /** The worker's bulk updaters by entity set (issue 15); without them every update is its own PATCH. */
  bulkUpdates?: ReadonlyMap<string, BulkRowUpdater>;
}

export function createDataverseActivities(deps: DataverseActivityDeps) {
  return {
    ...createDataverseListRecordActivities(deps),
    ...createDataversePairedRowActivities(deps),
    ...createDataverseSalesOrderActivities({
      dataverse: deps.dataverse,
      ...(deps.bulkReads ? { bulkReads: deps.bulkReads.salesOrders } : {}),
      ...(deps.bulkUpdates ? { bulkUpdates: deps.bulkUpdates } : {}),
      ...(deps.bulkWrites?.orderConversions ? { orderConversions: deps.bulkWrites.orderConversions } : {}),
    }),
    ...createSalesOrderModeActivities(deps),
    ...createWonOpportunityActivities(deps),
  };
}

export type DataverseActivities = ReturnType<typeof createDataverseActivities>;
