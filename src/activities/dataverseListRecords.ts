import { defaultMaxListeners, setMaxListeners } from 'node:events';
import { ApplicationFailure } from '@temporalio/activity';
import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import {
  ENTITY_SETS,
  ensurePriceListItem,
  PUBLISHING_COLUMNS,
  publishWithDefaultPriceList,
  qbListKey,
} from '../dataverse/entities';
import { DataverseConcurrencyError, DataverseDuplicateKeyError } from '../dataverse/errors';
import { odataString } from '../dataverse/odataAddress';
import {
  accountSyncFields,
  changedColumns,
  encodeSyncBase,
  productSyncFields,
  type AccountRecord,
  type AccountWrite,
  type ContactWrite,
  type FieldConflict,
  type OwnershipPolicy,
  type ProductRecord,
  type ProductWrite,
  type QuickBooksForm,
  quickbooksVersionSuperseded,
  type QuickBooksVersion,
  type SyncFields,
} from '../mapping';
import {
  COMPANY_FILE_COLUMN,
  DELETED_IN_QUICKBOOKS_COLUMN,
  LIST_ID_COLUMN,
  numericColumns,
  SYNC_BASE_COLUMN,
  TABLES,
  type QuickBooksEntity,
} from '../mapping/entityRegistry';
import { planDeletedRow } from '../mapping/quickbooksDeletions';
import { type RowState } from '../mapping/activeStatus';
import { planRowCreate, planRowMerge, type SyncOutcome } from '../mapping/quickbooksToDynamics';
import { ETAG_REREADS } from '../mapping/rereadLimits';
import { recordSynced } from '../observability/metrics';
import { BulkRowReader, guidLiteral, type BulkReadOptions } from './bulkReads';
import { rowUpdates, type BulkRowUpdater } from './bulkUpdates';
import { type BulkRowCreator } from './bulkCreates';
import { type BulkUpsertWriter } from './bulkUpserts';
import { currentActivityAttempt } from './activityAttempt';
import { asFailure } from './dataverseFailure';
import { etagOf, fromWire, textOf, toWire } from './dataverseRows';

/**
 * The Dataverse side of the QuickBooks → Dynamics flow: customers and vendors into accounts (with their primary
 * contacts), items into products. Each activity reads the row, asks the planner (`mapping/quickbooksToDynamics.ts`)
 * what to write, and writes it with the row's ETag.
 */

export interface DataverseListRecordDeps {
  dataverse: DataverseClient;
  /** Price list that carries the QuickBooks sales price of synced products (default: the first active one). */
  priceListName?: string;
  /**
   * The worker's bulk writers of accounts and contacts: a new account and its primary contact travel in
   * UpsertMultiple calls shared with other record activities (`bulkUpserts.ts`). Without them every row is its own
   * request, as before issue 15.
   */
  bulkWrites?: PartyBulkWriters;
  /**
   * The worker's bulk readers (issue 15, item 3): a row's read by key and the look for an unpaired account of the
   * same name travel in one query per page of records (`bulkReads.ts`). Without them each is its own request.
   */
  bulkReads?: ListRecordReaders;
  /**
   * The worker's bulk updaters by entity set: updates of existing rows travel in UpdateMultiple or `$batch` calls
   * shared with other record activities (`bulkUpdates.ts`). Without them every update is its own PATCH.
   */
  bulkUpdates?: ReadonlyMap<string, BulkRowUpdater>;
}

export interface PartyBulkWriters {
  accounts: BulkUpsertWriter;
  contacts: BulkUpsertWriter;
  /** New products; absent, a product is created by its own request. */
  products?: BulkUpsertWriter;
  /** New products' price-list items, in shared `$batch` calls; absent, each is created by its own request. */
  priceListItems?: BulkRowCreator;
}

export interface ListRecordReaders {
  /** Rows by (company file, ListID): group the company file, value the ListID. */
  byKey: Record<'account' | 'contact' | 'product', BulkRowReader>;
  /** Accounts no company file has claimed, by name: group the relationship type, value the name. */
  unpairedAccountsByName: BulkRowReader;
  /** Products by id, with what publishing them reads (state, default price list): no group, value the row id. */
  productsToPublish: BulkRowReader;
}

/** The bulk readers of the QuickBooks → Dynamics flow, on the worker's own client. */
export function createListRecordReaders(dataverse: DataverseClient, options: BulkReadOptions = {}): ListRecordReaders {
  const byKey = (table: 'account' | 'contact' | 'product'): BulkRowReader =>
    new BulkRowReader(
      dataverse,
      {
        entitySet: TABLES[table].entitySet,
        // The key columns come back so each row finds the look-up it answers.
        select: [...new Set([...TABLES[table].select, COMPANY_FILE_COLUMN, LIST_ID_COLUMN])],
        column: LIST_ID_COLUMN,
        groupFilter: (companyFile) => `${COMPANY_FILE_COLUMN} eq ${odataString(companyFile)}`,
      },
      options,
    );
  return {
    byKey: { account: byKey('account'), contact: byKey('contact'), product: byKey('product') },
    unpairedAccountsByName: new BulkRowReader(
      dataverse,
      {
        entitySet: TABLES.account.entitySet,
        select: TABLES.account.select,
        column: 'name',
        groupFilter: (relationshipType) => {
          const code = Number(relationshipType);
          if (!Number.isInteger(code)) throw new TypeError(`relationship type "${relationshipType}" is not a choice`);
          return `${LIST_ID_COLUMN} eq null and (customertypecode eq ${code} or customertypecode eq null)`;
        },
      },
      options,
    ),
    productsToPublish: new BulkRowReader(
      dataverse,
      {
        entitySet: TABLES.product.entitySet,
        select: PUBLISHING_COLUMNS,
        column: TABLES.product.idColumn,
        literal: guidLiteral,
      },
      options,
    ),
  };
}

export interface PartyToDataverseInput {
  desired: AccountWrite;
  contact: ContactWrite | null;
  /** QuickBooks TimeModified of the version `desired` came from. */
  qbModifiedAt: string;
  ownership: OwnershipPolicy;
  /** Customers take Dynamics' changes back; vendors only flow from QuickBooks. */
  returnsToQuickBooks: boolean;
  /** The QuickBooks version `desired` came from, recorded in the base when one is written. */
  quickbooksVersion?: QuickBooksVersion;
  /**
   * When the row's base was agreed at a newer QuickBooks version than `quickbooksVersion`, write nothing and answer
   * `superseded`: the workflow reads the record again. Runs recorded before this merged whatever they carried.
   */
  refuseSuperseded?: boolean;
}

export interface ToDataverseResult {
  rowId: string;
  outcome: SyncOutcome;
  /** Columns written to Dataverse (empty when unchanged). */
  written: string[];
  conflicts: FieldConflict[];
  /**
   * The values QuickBooks must take because Dynamics' side won some fields, or null when QuickBooks already agrees.
   * The sync base is committed only after QuickBooks took them (`commitSyncBase`), so a failed QuickBooks write is
   * retried by the next sync instead of being forgotten.
   */
  quickbooksTarget: SyncFields | null;
  etag?: string;
  /**
   * Nothing was written: the row's base was agreed at a newer QuickBooks version than the one the run carries (a
   * Dynamics → QuickBooks run wrote it meanwhile), so merging would push QuickBooks' older values. Read it again.
   */
  superseded?: true;
}

interface ProductCatalog {
  priceLevelId: string;
  uomScheduleId: string;
  uomId: string;
}

export function createDataverseListRecordActivities({
  dataverse,
  priceListName,
  bulkWrites,
  bulkReads,
  bulkUpdates,
}: DataverseListRecordDeps) {
  const updateRow = rowUpdates(dataverse, bulkUpdates);
  let catalog: Promise<ProductCatalog> | undefined;

  /** The price list and unit new products use; looked up once per worker (they do not move). */
  function productCatalog(): Promise<ProductCatalog> {
    catalog ??= (async () => {
      const filter = priceListName ? `name eq ${odataString(priceListName)}` : 'statecode eq 0';
      const priceLevel = await first(ENTITY_SETS.pricelevel, { select: ['pricelevelid', 'name'], filter });
      const schedule = await first(ENTITY_SETS.uomschedule, { select: ['uomscheduleid', 'name'] });
      if (!priceLevel || !schedule) {
        throw ApplicationFailure.nonRetryable(
          `Dataverse has no ${priceLevel ? 'unit group' : `price list${priceListName ? ` named ${priceListName}` : ''}`} for synced products`,
          'CatalogMissing',
        );
      }
      const scheduleId = String(schedule.uomscheduleid);
      const unit = await first(ENTITY_SETS.uom, {
        select: ['uomid', 'name'],
        filter: `_uomscheduleid_value eq ${scheduleId} and quantity eq 1`,
      });
      if (!unit) throw ApplicationFailure.nonRetryable('the unit group has no base unit', 'CatalogMissing');
      return { priceLevelId: String(priceLevel.pricelevelid), uomScheduleId: scheduleId, uomId: String(unit.uomid) };
    })();
    catalog.catch(() => {
      catalog = undefined;
    });
    return catalog;
  }

  async function first(
    entitySet: string,
    options: { select: readonly string[]; filter?: string },
  ): Promise<DataverseRow | undefined> {
    for await (const page of dataverse.query(entitySet, { ...options, top: 1 })) return page[0];
    return undefined;
  }

  /** The row fed from this QuickBooks record, or null; read with other records' rows when a bulk reader is at hand. */
  async function rowByKey(
    table: 'account' | 'contact' | 'product',
    key: { companyFile: string; listId: string },
  ): Promise<DataverseRow | null> {
    if (!bulkReads) {
      return dataverse.retrieve(TABLES[table].entitySet, qbListKey(key.companyFile, key.listId), {
        select: TABLES[table].select,
      });
    }
    const rows = await bulkReads.byKey[table].read(key.companyFile, key.listId);
    // The key's columns are the company file and the ListID: the query matches the key, so it finds the key's row.
    return rows[0] ?? null;
  }

  /** The one account with this name and relationship type (or none) that no company file has claimed yet. */
  async function unpairedAccountNamed(name: string, relationshipType: number): Promise<DataverseRow | null> {
    if (bulkReads) {
      const rows = await bulkReads.unpairedAccountsByName.read(String(relationshipType), name);
      // Ambiguous: two candidates, so a new account is safer than a guess.
      return rows.length === 1 ? rows[0]! : null;
    }
    const rows: DataverseRow[] = [];
    for await (const row of dataverse.queryRows(TABLES.account.entitySet, {
      select: TABLES.account.select,
      filter: `name eq ${odataString(name)} and qbsync_qblistid eq null and (customertypecode eq ${relationshipType} or customertypecode eq null)`,
      pageSize: 3,
    })) {
      rows.push(row);
      if (rows.length > 1) return null; // ambiguous: two candidates, so a new account is safer than a guess
    }
    return rows[0] ?? null;
  }

  /**
   * The primary contact: created when missing, else its QuickBooks fields that differ are written. When the account
   * was created just now and a bulk writer is at hand, the contact is upserted by key without reading it first: the
   * upsert writes the same QuickBooks fields the read-and-diff would, and a contact left behind by a deleted account
   * is taken over and bound to the new one.
   */
  async function upsertContact(
    contact: ContactWrite,
    key: { companyFile: string; listId: string },
    accountCreated: boolean,
  ): Promise<void> {
    const {
      'parentcustomerid_account@odata.bind': parentBind,
      qbsync_companyfile,
      qbsync_qblistid,
      ...fields
    } = contact;
    void qbsync_companyfile;
    void qbsync_qblistid;
    if (accountCreated && bulkWrites) {
      await bulkWrites.contacts.upsert(qbListKey(key.companyFile, key.listId), {
        ...fields,
        ...(parentBind ? { 'parentcustomerid_account@odata.bind': parentBind } : {}),
      });
      return;
    }
    const current = await rowByKey('contact', key);
    if (!current) {
      await dataverse.upsertByKey(
        TABLES.contact.entitySet,
        qbListKey(key.companyFile, key.listId),
        { ...fields, ...(parentBind ? { 'parentcustomerid_account@odata.bind': parentBind } : {}) },
        { mode: 'createOnly' },
      );
      return;
    }
    const changes = changedColumns(fields, current);
    if (changes) {
      await updateRow(TABLES.contact.entitySet, String(current.contactid), changes, {
        ...(etagOf(current) ? { etag: etagOf(current)! } : {}),
      });
    }
  }

  /**
   * One QuickBooks record into its row: created when missing, otherwise merged three ways (the planner decides) and
   * written with the row's ETag. A row created or changed by someone else meanwhile is read again and merged again.
   */
  async function mergeIntoRow(args: {
    table: 'account' | 'product';
    key: { companyFile: string; listId: string };
    desired: Record<string, unknown>;
    fields: (row: Record<string, unknown>) => SyncFields;
    qbModifiedAt: string;
    quickbooksVersion?: QuickBooksVersion;
    refuseSuperseded?: boolean;
    ownership: OwnershipPolicy;
    returnsToQuickBooks: boolean;
    columnGroups?: Readonly<Record<string, string>>;
    /**
     * An unpaired row that is the same record entered on both sides before the connector ran: taken over (first pairing,
     * merged by the ownership policy) instead of creating a twin.
     */
    adoptable?: () => Promise<DataverseRow | null>;
    /** Columns QuickBooks has no opinion on for this record (e.g. the category of a customer without a type). */
    quickbooksSilent?: readonly string[];
    /** Lookup bindings sent only when the row does not hold that lookup yet (a read returns ids, not keys). */
    binds: (row: DataverseRow | null) => Readonly<Record<string, string | undefined>>;
    /**
     * Writes a missing row in a bulk call shared with other records (upsert by key) instead of its own create-only
     * request. The row was read absent in this attempt; if another writer created it in between, the upsert takes it
     * over with QuickBooks' values where the create-only write would have merged into it (see docs/architecture.md).
     */
    bulkCreate?: BulkUpsertWriter;
  }): Promise<ToDataverseResult & { stateAfterCreate?: RowState }> {
    const { entitySet, idColumn } = TABLES[args.table];
    const key = qbListKey(args.key.companyFile, args.key.listId);
    const quickbooks = args.fields(args.desired);
    for (let attempt = 1; attempt <= ETAG_REREADS; attempt++) {
      let current = await rowByKey(args.table, args.key);
      let adopting = false;
      if (!current && args.adoptable) {
        current = await args.adoptable();
        adopting = current !== null;
      }
      if (!current) {
        const plan = planRowCreate(args.table, args.desired, quickbooks, args.quickbooksVersion);
        if (args.bulkCreate) {
          let rowId: string;
          try {
            rowId = await args.bulkCreate.upsert(key, { ...toWire(plan.body), ...args.binds(null) });
          } catch (err) {
            throw asFailure(err, `creating the ${entitySet} row`);
          }
          return {
            rowId,
            outcome: 'created',
            written: plan.written,
            conflicts: [],
            quickbooksTarget: null,
            ...(plan.state ? { stateAfterCreate: plan.state } : {}),
          };
        }
        try {
          const created = await dataverse.upsertByKey(
            entitySet,
            key,
            { ...toWire(plan.body), ...args.binds(null) },
            { mode: 'createOnly', returnRepresentation: true, select: [idColumn] },
          );
          return {
            rowId: created.id ?? String(created.row?.[idColumn] ?? ''),
            outcome: 'created',
            written: plan.written,
            conflicts: [],
            quickbooksTarget: null,
            ...(created.etag ? { etag: created.etag } : {}),
            ...(plan.state ? { stateAfterCreate: plan.state } : {}),
          };
        } catch (err) {
          // Someone created it between our read and write (a webhook run, a second poll): merge into theirs.
          if (err instanceof DataverseDuplicateKeyError || err instanceof DataverseConcurrencyError) continue;
          throw asFailure(err, `creating the ${entitySet} row`);
        }
      }
      const storedBase = textOf(current, SYNC_BASE_COLUMN);
      if (
        args.refuseSuperseded &&
        args.quickbooksVersion &&
        quickbooksVersionSuperseded(storedBase, args.quickbooksVersion)
      ) {
        return {
          rowId: String(current[idColumn]),
          outcome: 'unchanged',
          written: [],
          conflicts: [],
          quickbooksTarget: null,
          superseded: true,
        };
      }
      const row = fromWire<Record<string, unknown>>(current);
      const planned = planRowMerge({
        table: args.table,
        desired: args.desired,
        quickbooks,
        row,
        dynamics: args.fields(row),
        storedBase,
        qbModifiedAt: args.qbModifiedAt,
        ...(args.quickbooksVersion ? { quickbooksVersion: args.quickbooksVersion } : {}),
        dvModifiedAt: textOf(current, 'modifiedon'),
        policy: args.ownership,
        ...(args.columnGroups ? { columnGroups: args.columnGroups } : {}),
        returnsToQuickBooks: args.returnsToQuickBooks,
        quickbooksSilent: args.quickbooksSilent ?? [],
        numericColumns: numericColumns(args.table),
        binds: args.binds(current),
        ...(adopting ? { adoptAs: args.key } : {}),
      });
      if (!planned.ok) {
        throw ApplicationFailure.nonRetryable(
          `merging the ${entitySet} row: ${planned.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
          'MappingError',
        );
      }
      const plan = planned.value;
      const rowId = String(current[idColumn]);
      let etag = etagOf(current);
      if (Object.keys(plan.changes).length > 0) {
        try {
          const result = await updateRow(entitySet, rowId, toWire(plan.changes), { ...(etag ? { etag } : {}) });
          etag = result.etag ?? etag;
        } catch (err) {
          if (err instanceof DataverseConcurrencyError) continue;
          throw asFailure(err, `updating the ${entitySet} row`);
        }
      }
      return {
        rowId,
        outcome: plan.outcome,
        written: plan.written,
        conflicts: plan.conflicts,
        quickbooksTarget: plan.quickbooksTarget,
        ...(etag ? { etag } : {}),
      };
    }
    throw ApplicationFailure.retryable(`the ${entitySet} row kept changing while we wrote it`, 'StaleEtag');
  }

  /** A row created for a record already inactive in QuickBooks takes its state now: Dataverse refuses it on create. */
  async function giveCreatedRowItsState(table: 'account' | 'product', rowId: string, state: RowState): Promise<void> {
    try {
      await updateRow(TABLES[table].entitySet, rowId, { ...state });
    } catch (err) {
      throw asFailure(err, `setting the state of the new ${TABLES[table].entitySet} row`);
    }
  }

  const activities = {
    /** A QuickBooks customer or vendor into its account (and primary contact). */
    async syncPartyToDataverse(input: PartyToDataverseInput): Promise<ToDataverseResult> {
      const key = { companyFile: input.desired.qbsync_companyfile, listId: input.desired.qbsync_qblistid };
      const { 'parentaccountid@odata.bind': parentBind, ...desired } = input.desired;
      const { stateAfterCreate, ...result } = await mergeIntoRow({
        table: 'account',
        key,
        desired,
        fields: (row) => accountSyncFields(row as AccountRecord),
        qbModifiedAt: input.qbModifiedAt,
        ...versionArgs(input),
        ownership: input.ownership,
        returnsToQuickBooks: input.returnsToQuickBooks,
        quickbooksSilent: desired.accountcategorycode === undefined ? ['accountcategorycode'] : [],
        ...(input.returnsToQuickBooks && !parentBind
          ? { adoptable: () => unpairedAccountNamed(desired.name, desired.customertypecode) }
          : {}),
        binds: (row) =>
          parentBind &&
          (row === null || row._parentaccountid_value === null || row._parentaccountid_value === undefined)
            ? { 'parentaccountid@odata.bind': parentBind }
            : {},
        ...(bulkWrites ? { bulkCreate: bulkWrites.accounts } : {}),
      });
      // Superseded: the contact would be written from the same old version.
      if (result.superseded) return result;
      if (stateAfterCreate) await giveCreatedRowItsState('account', result.rowId, stateAfterCreate);
      if (input.contact) {
        try {
          await upsertContact(input.contact, key, result.outcome === 'created');
        } catch (err) {
          throw asFailure(err, 'writing the primary contact');
        }
      }
      const entity = input.desired.customertypecode === 3 ? 'customer' : 'vendor';
      recordSynced(entity, 'quickbooks-to-dataverse', result.outcome);
      return result;
    },

    /**
     * A QuickBooks item into its product, published when created as Draft, with its price on the price list, which
     * then becomes the product's default price list: Dataverse takes no default price list on create, only once the
     * product has a price-list item in it. A retry after a lost answer finds the product and its price-list item (by
     * product, price list and unit) and writes only what is missing. An item without a price gets no price-list item,
     * hence no default price list.
     */
    async syncItemToDataverse(input: ItemToDataverseInput): Promise<ToDataverseResult> {
      const cat = await productCatalog();
      const { stateAfterCreate, ...result } = await mergeIntoRow({
        table: 'product',
        key: { companyFile: input.desired.qbsync_companyfile, listId: input.desired.qbsync_qblistid },
        desired: { ...input.desired },
        fields: (row) => productSyncFields(row as ProductRecord),
        qbModifiedAt: input.qbModifiedAt,
        ...versionArgs(input),
        ownership: input.ownership,
        returnsToQuickBooks: input.returnsToQuickBooks,
        binds: (row) =>
          row === null
            ? {
                'defaultuomscheduleid@odata.bind': `/uomschedules(${cat.uomScheduleId})`,
                'defaultuomid@odata.bind': `/uoms(${cat.uomId})`,
              }
            : {},
        ...(bulkWrites?.products ? { bulkCreate: bulkWrites.products } : {}),
      });
      // Superseded: its price would be written from the same old version.
      if (result.superseded) return result;
      try {
        // The price-list item first, then publishing and the default price list in one update (Dataverse takes a
        // default only once the product has an item in that list). A product created in this attempt has no item
        // yet, so it is created without looking for one first.
        const price = input.desired.price;
        if (price !== null) {
          await ensurePriceListItem(
            dataverse,
            { priceLevelId: cat.priceLevelId, productId: result.rowId, uomId: cat.uomId, amount: price },
            {
              productIsNew: result.outcome === 'created',
              ...(bulkWrites?.priceListItems ? { create: (row) => bulkWrites.priceListItems!.create(row) } : {}),
            },
          );
        }
        await publishWithDefaultPriceList(dataverse, result.rowId, price !== null ? cat.priceLevelId : null, {
          write: (id, changes, etag) => updateRow(TABLES.product.entitySet, id, changes, etag ? { etag } : {}),
          // The product's state and default price list, read in one query with other products being published.
          ...(bulkReads
            ? { read: async () => (await bulkReads.productsToPublish.read('', result.rowId))[0] ?? null }
            : {}),
        });
      } catch (err) {
        throw asFailure(err, 'publishing the product and its price');
      }
      // Published first, then retired: the state model retires an Active product (reference dataverse.md §2.2).
      if (stateAfterCreate) await giveCreatedRowItsState('product', result.rowId, stateAfterCreate);
      recordSynced('item', 'quickbooks-to-dataverse', result.outcome);
      return result;
    },

    /**
     * A QuickBooks record was deleted: its paired row (if any) is deactivated or retired and marked with the time of
     * the deletion (`mapping/quickbooksDeletions.ts`). The row itself is never deleted.
     */
    async markDeletedInQuickBooks(input: {
      entity: QuickBooksEntity;
      companyFile: string;
      listId: string;
      timeDeleted: string;
    }): Promise<{ rowId: string | null; outcome: 'deleted' | 'unchanged'; written: string[]; note: string }> {
      const table = input.entity === 'item' ? 'product' : 'account';
      const { entitySet, idColumn } = TABLES[table];
      for (let attempt = 1; attempt <= ETAG_REREADS; attempt++) {
        let row: DataverseRow | null;
        try {
          row = await dataverse.retrieve(entitySet, qbListKey(input.companyFile, input.listId), {
            select: [idColumn, 'statecode', DELETED_IN_QUICKBOOKS_COLUMN],
          });
        } catch (err) {
          throw asFailure(err, `reading the ${entitySet} row of a deleted QuickBooks record`);
        }
        if (!row) {
          return {
            rowId: null,
            outcome: 'unchanged',
            written: [],
            note: 'deleted in QuickBooks; no row was paired with it',
          };
        }
        const rowId = String(row[idColumn]);
        const plan = planDeletedRow(table, fromWire<Record<string, unknown>>(row), input.timeDeleted);
        if (Object.keys(plan.changes).length > 0) {
          try {
            const etag = etagOf(row);
            await updateRow(entitySet, rowId, toWire(plan.changes), { ...(etag ? { etag } : {}) });
          } catch (err) {
            if (err instanceof DataverseConcurrencyError) continue;
            throw asFailure(err, `deactivating the ${entitySet} row of a deleted QuickBooks record`);
          }
        }
        recordSynced(input.entity, 'quickbooks-to-dataverse', plan.outcome);
        return { rowId, outcome: plan.outcome, written: Object.keys(plan.changes), note: plan.note };
      }
      throw ApplicationFailure.retryable(`the ${entitySet} row kept changing while we marked it`, 'StaleEtag');
    },

    /** Records that both systems now hold `fields` (after QuickBooks took Dynamics' side of a merge). */
    async commitSyncBase(input: {
      entity: 'account' | 'product';
      rowId: string;
      fields: SyncFields;
      /** How QuickBooks holds the text of `fields` it could not store as it is (see `QuickBooksForm`). */
      quickbooksForm?: QuickBooksForm | null;
      /** The QuickBooks version that took `fields` (absent from runs recorded before versions were kept). */
      quickbooksVersion?: QuickBooksVersion;
    }): Promise<void> {
      try {
        await updateRow(TABLES[input.entity].entitySet, input.rowId, {
          [SYNC_BASE_COLUMN]: encodeSyncBase(input.fields, {
            quickbooksForm: input.quickbooksForm,
            quickbooksVersion: input.quickbooksVersion,
          }),
        });
      } catch (err) {
        throw asFailure(err, `recording the sync base on ${input.entity} ${input.rowId}`);
      }
    },
  };

  return {
    ...activities,

    /**
     * A group of QuickBooks records into their rows in one attempt (`quickbooksRecordGroup`): each record as
     * `syncPartyToDataverse` or `syncItemToDataverse` would write it alone, all at once, so their reads and writes
     * travel together in the worker's bulk calls. A record whose write fails is answered with its failure and the
     * others are written: its own record run takes it from there. A retry of the whole attempt finds the rows
     * written before and writes only what is missing, as a record activity's retry does.
     */
    async syncRecordGroupToDataverse(input: { entries: RecordGroupEntry[] }): Promise<RecordGroupEntryResult[]> {
      // Every record's requests wait on this one attempt's cancellation at once, each removing its listener when it
      // settles: Node's warning of a leak past 10 listeners would count the group's size, not a leak.
      const attempt = currentActivityAttempt();
      if (attempt) {
        setMaxListeners(
          Math.max(defaultMaxListeners, input.entries.length * ATTEMPT_LISTENERS_PER_RECORD),
          attempt.signal,
        );
      }
      return Promise.all(
        input.entries.map(async (entry): Promise<RecordGroupEntryResult> => {
          try {
            const result =
              'party' in entry
                ? await activities.syncPartyToDataverse(entry.party)
                : await activities.syncItemToDataverse(entry.item);
            return { listId: entry.listId, result };
          } catch (err) {
            return { listId: entry.listId, error: err instanceof Error ? err.message : String(err) };
          }
        }),
      );
    },
  };
}

/**
 * Listeners one record of a group may hold on its attempt's signal at once: a request in flight and its place in a
 * gathered bulk call, with room to spare.
 */
const ATTEMPT_LISTENERS_PER_RECORD = 4;

export interface ItemToDataverseInput {
  desired: ProductWrite;
  qbModifiedAt: string;
  ownership: OwnershipPolicy;
  returnsToQuickBooks: boolean;
  quickbooksVersion?: QuickBooksVersion;
  refuseSuperseded?: boolean;
}

/** One record of a group, as its own record run would hand it to `syncPartyToDataverse` or `syncItemToDataverse`. */
export type RecordGroupEntry =
  { listId: string; party: PartyToDataverseInput } | { listId: string; item: ItemToDataverseInput };

/** A group record's row as written, or why it was not: the record's own run then takes it. */
export interface RecordGroupEntryResult {
  listId: string;
  result?: ToDataverseResult;
  error?: string;
}

/** The version arguments of a record activity, passed on only when the run sent them. */
function versionArgs(input: { quickbooksVersion?: QuickBooksVersion; refuseSuperseded?: boolean }): {
  quickbooksVersion?: QuickBooksVersion;
  refuseSuperseded?: boolean;
} {
  return {
    ...(input.quickbooksVersion ? { quickbooksVersion: input.quickbooksVersion } : {}),
    ...(input.refuseSuperseded ? { refuseSuperseded: true } : {}),
  };
}
