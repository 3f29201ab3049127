import { ApplicationFailure } from '@temporalio/activity';
import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import { DataverseConcurrencyError } from '../dataverse/errors';
import { odataString } from '../dataverse/odataAddress';
import {
  encodeSyncBaseWithEdits,
  type AccountRecord,
  type DynamicsEdits,
  type QuickBooksForm,
  type ProductRecord,
  type QuickBooksVersion,
  type SyncFields,
} from '../mapping';
import {
  changedSince,
  changeOrder,
  positionMark,
  readPositionMark,
  rowVersionOf,
  savedAfterRead,
  savedAgainWithin,
  type DataverseChangePosition,
} from '../mapping/dataverseChanges';
import { accountChange, productChange, type ChangeVerdict } from '../mapping/dynamicsToQuickBooks';
import {
  COMPANY_FILE_COLUMN,
  LIST_ID_COLUMN,
  SYNC_BASE_COLUMN,
  TABLES,
  TXN_ID_COLUMN,
  type DynamicsEntity,
  ESTIMATE_TXN_ID_COLUMN,
  SALES_ORDER_TXN_ID_COLUMN,
} from '../mapping/entityRegistry';
import { recordSynced } from '../observability/metrics';
import { rowUpdates, type BulkRowUpdater } from './bulkUpdates';
import { asFailure } from './dataverseFailure';
import { etagOf, fromWire, textOf, toWire } from './dataverseRows';

/**
 * The Dataverse side of the Dynamics → QuickBooks flow for accounts and products: what changed since the cursors, a
 * row as its QuickBooks record needs it, and what the QuickBooks side decided written back onto the row.
 */

export interface AccountForQuickBooks {
  account: AccountRecord & {
    statecode?: number | null;
    qbsync_syncbase?: string | null;
    qbsync_qbdeletedon?: string | null;
  };
  etag: string;
  /** ListID of the parent account's QuickBooks customer in the same company file, when it has one. */
  parentListId: string | null;
  /**
   * The parent account's pairing, whichever company file it is in (null without a parent): a row not yet in a company
   * file goes to the one the workflow picks, and is a job there when its parent is paired in that one. Absent from
   * results recorded before it was read.
   */
  parent?: { companyFile: string | null; listId: string | null } | null;
}

export interface ProductForQuickBooks {
  product: ProductRecord & {
    statecode?: number | null;
    qbsync_syncbase?: string | null;
    qbsync_qbdeletedon?: string | null;
  };
  etag: string;
}

/** A position (a `modifiedon`, or a row id) per Dynamics table the poll reads. */
export type DynamicsPositions = Partial<Record<DynamicsEntity, string>>;

export interface DataverseChangesInput {
  connection: string;
  receivesNewAccounts: boolean;
  since: DynamicsPositions;
  /**
   * Mark of the last row handed off at the `since` second, per entity: its id, and the highest row version the read saw
   * (see `mapping/dataverseChanges.ts`; a bare id from a cursor written before).
   */
  afterIds?: DynamicsPositions;
  /** Also read opportunities won since their cursor and not given an estimate yet (poll cycles since issue 16). */
  wonOpportunities?: boolean;
  /** Rows handed off per entity and cycle; the cursor stops before the first row beyond. */
  limit?: number;
  /**
   * Rows read per entity and cycle, handed off or not; the cursor stops at the last row read. Rows the connector
   * wrote itself (echoes) are not handed off, and after a load they come first: without this bound apart from `limit`
   * a cycle read its own 2,000 echoes and reached no person's new account for five cycles (issue 15's benchmark).
   */
  readLimit?: number;
}

export interface DataverseChanges {
  accountIds: string[];
  productIds: string[];
  salesOrderIds: string[];
  /** Won opportunities (only when asked for: `wonOpportunities`). */
  opportunityIds?: string[];
  /** modifiedon of the last row looked at per entity (rows beyond `limit` wait for the next cycle). */
  cursors: DynamicsPositions;
  /** Mark of that last row: the next cycle resumes after it, within the same second, and reads that second again. */
  afterIds?: DynamicsPositions;
  /** Rows that changed only because the connector wrote them (their fields equal the sync base). */
  echoesSkipped: number;
  /** Those of `accountIds` not paired with a customer yet: their runs create one (absent from results before). */
  newAccountIds?: string[];
}

export function createDataversePairedRowActivities({
  dataverse,
  bulkUpdates,
}: {
  dataverse: DataverseClient;
  /** The worker's bulk updaters by entity set (`bulkUpdates.ts`); without them every write-back is its own PATCH. */
  bulkUpdates?: ReadonlyMap<string, BulkRowUpdater>;
}) {
  const updateRow = rowUpdates(dataverse, bulkUpdates);
  return {
    async readAccountForQuickBooks(input: { accountId: string }): Promise<AccountForQuickBooks | null> {
      const row = await dataverse.retrieve(TABLES.account.entitySet, input.accountId, {
        select: TABLES.account.select,
      });
      if (!row) return null;
      const account = fromWire<AccountForQuickBooks['account']>(row);
      let parentListId: string | null = null;
      let parentPairing: AccountForQuickBooks['parent'] = null;
      const parentId = textOf(row, '_parentaccountid_value');
      if (parentId) {
        const parent = await dataverse.retrieve(TABLES.account.entitySet, parentId, {
          select: ['accountid', COMPANY_FILE_COLUMN, LIST_ID_COLUMN],
        });
        if (parent) {
          parentPairing = { companyFile: textOf(parent, COMPANY_FILE_COLUMN), listId: textOf(parent, LIST_ID_COLUMN) };
          if (parentPairing.companyFile === account.qbsync_companyfile) parentListId = parentPairing.listId;
        }
      }
      return { account, etag: etagOf(row) ?? '', parentListId, parent: parentPairing };
    },

    async readProductForQuickBooks(input: { productId: string }): Promise<ProductForQuickBooks | null> {
      const row = await dataverse.retrieve(TABLES.product.entitySet, input.productId, {
        select: TABLES.product.select,
      });
      if (!row) return null;
      return { product: fromWire<ProductForQuickBooks['product']>(row), etag: etagOf(row) ?? '' };
    },

    /**
     * Writes back onto a row what the QuickBooks side decided: the ListID of a customer or item created from it, the
     * merged fields, the new sync base. With `etag`, a concurrent edit in Dynamics fails the write (`StaleEtag`) so the
     * workflow merges again instead of overwriting it.
     */
    async writeBackToRow(input: {
      entity: 'account' | 'product';
      rowId: string;
      etag?: string;
      changes: Record<string, unknown>;
      base: SyncFields | null;
      /** Columns the base is written over, left as the person saved them, and when (see `DynamicsEdits`). */
      dynamicsEdits?: DynamicsEdits | null;
      /** How QuickBooks holds the base's text it could not store as it is (see `QuickBooksForm`). */
      quickbooksForm?: QuickBooksForm | null;
      /** The QuickBooks version that holds `base` (absent from runs recorded before versions were kept). */
      quickbooksVersion?: QuickBooksVersion;
    }): Promise<{ written: string[] }> {
      const body: Record<string, unknown> = { ...input.changes };
      if (input.base) {
        body[SYNC_BASE_COLUMN] = encodeSyncBaseWithEdits(input.base, input.dynamicsEdits, {
          quickbooksForm: input.quickbooksForm,
          quickbooksVersion: input.quickbooksVersion,
        });
      }
      if (Object.keys(body).length === 0) return { written: [] };
      const { entitySet, idColumn } = TABLES[input.entity];
      let etag = input.etag;
      if (!etag && LIST_ID_COLUMN in input.changes) {
        // A pairing is never written blind. A caller without an ETag (a run recorded before pairings were
        // conditional) gets the row as it is now: paired already, it keeps its pairing; otherwise it is written on
        // that version.
        const row = await dataverse.retrieve(entitySet, input.rowId, {
          select: [idColumn, COMPANY_FILE_COLUMN, LIST_ID_COLUMN],
        });
        const listId = row ? textOf(row, LIST_ID_COLUMN) : null;
        if (!row || (listId && listId !== input.changes[LIST_ID_COLUMN])) return { written: [] };
        etag = etagOf(row);
      }
      try {
        await updateRow(entitySet, input.rowId, toWire(body), {
          ...(etag ? { etag } : {}),
        });
      } catch (err) {
        if (err instanceof DataverseConcurrencyError) {
          throw ApplicationFailure.nonRetryable(
            `${input.entity} ${input.rowId} changed in Dynamics meanwhile`,
            'StaleEtag',
          );
        }
        throw asFailure(err, `writing back to ${input.entity} ${input.rowId}`);
      }
      const created = LIST_ID_COLUMN in input.changes;
      recordSynced(input.entity, 'dataverse-to-quickbooks', created ? 'created' : 'updated');
      return { written: Object.keys(input.changes) };
    },

    /**
     * What changed in Dynamics since the cursors, for one connection: accounts and products whose synced fields differ
     * from their sync base (the connector's own writes do not count), new accounts when this connection receives them,
     * and sales orders not invoiced yet whose customer belongs to this company file.
     */
    async listDataverseChanges(input: DataverseChangesInput): Promise<DataverseChanges> {
      const limit = input.limit ?? 2000;
      // Reading costs a request per 500 rows and nothing in the poll's history: a load's echoes pass in one cycle.
      const readLimit = input.readLimit ?? 25_000;
      const afterIds: NonNullable<DataverseChanges['afterIds']> = { ...input.afterIds };
      const out: DataverseChanges = {
        accountIds: [],
        productIds: [],
        salesOrderIds: [],
        cursors: { ...input.since },
        afterIds,
        echoesSkipped: 0,
        newAccountIds: [],
      };
      const mine = `${COMPANY_FILE_COLUMN} eq ${odataString(input.connection)}`;
      const mineOrNew = `(${mine} or ${COMPANY_FILE_COLUMN} eq null)`;
      /**
       * Rows after the entity's cursor in the order (modifiedon, id), at most `limit`; the cursor follows each row
       * seen, so rows beyond the limit, even within one second, are the next cycle's first. Before them, the rows of
       * the cursor's second saved again since the last read.
       */
      const changed = async (
        entity: DynamicsEntity,
        select: readonly string[],
        filter: string,
        verdict: (row: DataverseRow) => ChangeVerdict,
        into: string[],
      ): Promise<void> => {
        const { idColumn } = TABLES[entity];
        const position: DataverseChangePosition = {
          ...(input.since[entity] ? { since: input.since[entity] } : {}),
          ...readPositionMark(input.afterIds?.[entity]),
        };
        const columns = select.includes(idColumn) ? select : [...select, idColumn];
        let highest = position.seenVersion;
        const sawVersion = (row: DataverseRow): void => {
          const version = rowVersionOf(etagOf(row));
          if (version !== undefined && (highest === undefined || version > highest)) highest = version;
        };
        const take = (row: DataverseRow, found = verdict(row)): void => {
          if (found === 'due') {
            into.push(String(row[idColumn]));
            if (entity === 'account' && !textOf(row, LIST_ID_COLUMN)) out.newAccountIds?.push(String(row[idColumn]));
          } else if (found === 'echo') out.echoesSkipped++;
        };
        // The overlap first: rows of the cursor's second saved again after the last read (see dataverseChanges.ts). Not
        // cut at `limit`: a row left unread here would be a save lost; these are the rows of one second, already read.
        const overlap = savedAgainWithin(position, idColumn);
        if (overlap && position.seenVersion !== undefined) {
          const seenVersion = position.seenVersion;
          for await (const row of dataverse.queryRows(TABLES[entity].entitySet, {
            select: columns,
            filter: `${filter} and ${overlap}`,
            orderby: changeOrder(idColumn),
            pageSize: 500,
          })) {
            sawVersion(row);
            if (savedAfterRead(etagOf(row), seenVersion)) take(row);
          }
        }
        const after = changedSince(position, idColumn);
        let lastId = position.afterId;
        let read = 0;
        const handedOffBefore = into.length;
        for await (const row of dataverse.queryRows(TABLES[entity].entitySet, {
          select: columns,
          filter: after ? `${filter} and ${after}` : filter,
          orderby: changeOrder(idColumn),
          pageSize: 500,
        })) {
          if (read++ >= readLimit) break;
          const found = verdict(row);
          if (found === 'due' && into.length - handedOffBefore >= limit) break;
          sawVersion(row);
          const modifiedOn = textOf(row, 'modifiedon');
          if (modifiedOn) {
            out.cursors[entity] = modifiedOn;
            lastId = String(row[idColumn]);
          }
          take(row, found);
        }
        if (lastId !== undefined && out.cursors[entity]) afterIds[entity] = positionMark(lastId, highest);
      };

      await changed(
        'account',
        TABLES.account.select,
        input.receivesNewAccounts ? mineOrNew : mine,
        (row) => accountChange(fromWire(row)),
        out.accountIds,
      );
      await changed(
        'product',
        TABLES.product.select,
        mineOrNew,
        (row) => productChange(fromWire(row), input.receivesNewAccounts),
        out.productIds,
      );
      await changed(
        'salesorder',
        ['salesorderid', 'modifiedon', '_customerid_value', TXN_ID_COLUMN, 'statecode'],
        // Neither invoiced nor sent as a QuickBooks sales order (sales-order mode) yet.
        `statecode eq 0 and ${TXN_ID_COLUMN} eq null and ${SALES_ORDER_TXN_ID_COLUMN} eq null`,
        () => 'due',
        out.salesOrderIds,
      );
      if (input.wonOpportunities) {
        // Won (statecode 1) and without an estimate yet; one whose connection makes no estimates is read once, when
        // won, and the cursor moves past it.
        out.opportunityIds = [];
        await changed(
          'opportunity',
          ['opportunityid', 'modifiedon', 'statecode', ESTIMATE_TXN_ID_COLUMN],
          `statecode eq 1 and ${ESTIMATE_TXN_ID_COLUMN} eq null`,
          () => 'due',
          out.opportunityIds,
        );
      }
      return out;
    },
  };
}
