import type { Client } from '@temporalio/client';
import type { SyncSettings } from '../config/syncSettings';
import type { DataverseClient } from '../dataverse/client';
import { ENTITY_SETS } from '../dataverse/entities';
import { TABLES } from '../mapping/entityRegistry';
import type { QueueLimits } from '../workflows/companyFile/companyFileState';
import { currentActivityAttempt } from './activityAttempt';
import { BulkActionCalls, BulkRowCreator } from './bulkCreates';
import { type BulkReadOptions } from './bulkReads';
import { createBulkUpdaters, type BulkUpdateOptions } from './bulkUpdates';
import { BulkUpsertWriter, type BulkUpsertOptions } from './bulkUpserts';
import { createDataverseActivities } from './dataverse';
import { createListRecordReaders } from './dataverseListRecords';
import { createSalesOrderReaders } from './dataverseSalesOrders';
import { createQuickBooksActivities } from './quickbooks';
import { createReconcileActivities } from './reconcile';
import { createSyncContextActivities } from './syncContext';

export interface ActivityDeps {
  client: Client;
  taskQueue: string;
  /** Absent in a worker that only serves QuickBooks (some tests): the sync activities are then not registered. */
  dataverse?: DataverseClient;
  /** Per connection. */
  settings?: ReadonlyMap<string, SyncSettings>;
  priceListName?: string;
  /** QuickBooks work per Web Connector round trip (configuration file `batching`); else the workflow's defaults. */
  queueLimits?: Partial<QueueLimits>;
  /** How long a requester waits for QuickBooks without an answer (configuration file `batching.quickbooksWaitHours`). */
  quickbooksWaitMs?: number;
  /** How often a waiting requester checks that its company file's run still knows its requests (default 1 h). */
  quickbooksRunCheckMs?: number;
  /**
   * How new accounts and their primary contacts are written: gathered from concurrent record activities into
   * UpsertMultiple calls (default), or `false` for one request a row, as before issue 15.
   */
  bulkWrites?: BulkUpsertOptions | false;
  /**
   * How QuickBooks records' rows are read: gathered from concurrent record activities into one query per page of
   * keys or names (default), or `false` for one request a read.
   */
  bulkReads?: BulkReadOptions | false;
  /**
   * How existing rows are updated: gathered from concurrent record activities into UpdateMultiple calls, or `$batch`
   * calls for updates conditioned on a row version and tables without UpdateMultiple (default), or `false` for one
   * PATCH an update.
   */
  bulkUpdates?: BulkUpdateOptions | false;
  /**
   * How long the worker answers record runs from its last read of the Dynamics choice options (default 60 s; 0: each
   * run reads them). Dropped at once when the connector adds an option; a poll cycle always reads them.
   */
  choiceOptionsMaxAgeMs?: number;
}

/** All activities of the worker, built from their dependencies so tests can inject fakes. */
export function createActivities(deps: ActivityDeps) {
  const quickbooks = createQuickBooksActivities(deps);
  if (!deps.dataverse) return quickbooks;
  const dataverse = deps.dataverse.followingAttempts(currentActivityAttempt);
  // The writers send on the worker's own client: one call carries rows of many attempts, none of which owns it.
  const bulk = deps.bulkWrites === false ? undefined : { ...deps.bulkWrites, attemptOf: currentActivityAttempt };
  const bulkWrites = bulk && {
    accounts: new BulkUpsertWriter(deps.dataverse, TABLES.account.entitySet, bulk),
    contacts: new BulkUpsertWriter(deps.dataverse, TABLES.contact.entitySet, bulk),
    products: new BulkUpsertWriter(deps.dataverse, TABLES.product.entitySet, bulk),
    priceListItems: new BulkRowCreator(deps.dataverse, ENTITY_SETS.productpricelevel, bulk),
    orderConversions: new BulkActionCalls(deps.dataverse, 'ConvertSalesOrderToInvoice', bulk),
  };
  const readOptions = deps.bulkReads === false ? undefined : { ...deps.bulkReads, attemptOf: currentActivityAttempt };
  const bulkReads = readOptions && {
    ...createListRecordReaders(deps.dataverse, readOptions),
    salesOrders: createSalesOrderReaders(deps.dataverse, readOptions),
  };
  const updateOptions =
    deps.bulkUpdates === false ? undefined : { ...deps.bulkUpdates, attemptOf: currentActivityAttempt };
  const bulkUpdates = updateOptions && createBulkUpdaters(deps.dataverse, updateOptions);
  return {
    ...quickbooks,
    ...createDataverseActivities({
      dataverse,
      ...(deps.priceListName ? { priceListName: deps.priceListName } : {}),
      ...(bulkWrites ? { bulkWrites } : {}),
      ...(bulkReads ? { bulkReads } : {}),
      ...(bulkUpdates ? { bulkUpdates } : {}),
    }),
    ...createReconcileActivities({ dataverse }),
    ...createSyncContextActivities({
      client: deps.client,
      dataverse,
      settings: deps.settings ?? new Map(),
      ...(deps.choiceOptionsMaxAgeMs === undefined ? {} : { choiceOptionsMaxAgeMs: deps.choiceOptionsMaxAgeMs }),
    }),
  };
}
