import {
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { PollCycleStart, SyncContext } from '../activities/syncContext';
import type { ChoiceMaps } from '../mapping/choices';
import {
  orderIdOfInvoiceLink,
  parseRecordWorkflowId,
  type DynamicsEntity,
  type QuickBooksEntity,
} from '../mapping/entityRegistry';
import {
  cursorAfter,
  cursorAfterPage,
  type CrowdedInstants,
  type ReadWindow,
  invoiceReadFrom,
  OVERLAP_IDS_AT_MOST,
  QUICKBOOKS_OVERLAP_MS,
  readFrom,
  recordId,
  seenAfter,
  sublevel,
  unseen,
} from '../mapping/quickbooksChanges';
import {
  linkedSalesOrders,
  salesOrderInvoiceFacts,
  salesOrderInvoicing,
  type SalesOrderInvoiceFacts,
} from '../mapping/salesOrderToQuickBooksSalesOrder';
import {
  DELETED_LIST_TYPES,
  DELETIONS_CURSOR,
  deletionsByEntity,
  INVOICE_DELETIONS_CURSOR,
} from '../mapping/quickbooksDeletions';
import { BATCH_RECORDS_AT_MOST, recordBatchLength } from '../mapping/recordGroups';
import { CARRIED_FACTS_BYTES_AT_MOST, carriedFactsBytes } from '../mapping/payloadBytes';
import type {
  CustomerRet,
  CustomerTypeRet,
  InvoiceRet,
  ListDeletedRet,
  QbRecord,
  QbxmlRequest,
  SalesOrderRet,
  TxnDeletedRet,
  VendorRet,
} from '../qbxml/requests';
import { advanceCursorsSignal, companyFileWorkflowId, forgetOwnWritesSignal } from './companyFile/messages';
import { responseOrFail } from './companyFile/qbxmlFailure';
import { readQbxml, runQbxml, type PendingQbxml, type QbxmlOutcome } from './companyFile/runQbxml';
import { UNREADABLE_ANSWER_HRESULT } from './companyFile/unreadableAnswers';
import { alignReferenceChoices } from './choiceAlignment';
import { handOffDynamicsRows } from './dynamicsRowHandOff';
import { describePollProgress, pollProgressQuery, type PollProgress } from './pollProgress';
import { dataverse, syncContext } from './sync/activities';
import { isSyncedItem } from './sync/quickbooksRecords';
import {
  quickbooksRecordBatch,
  recordBatchReleaseSignal,
  recordBatchReportSignal,
  type QuickBooksRecordBatchInput,
  type QuickBooksRecordBatchResult,
} from './sync/quickbooksRecordBatch';
import {
  EMPTY_LINE,
  awaits,
  releases,
  reported,
  runsAtOnce,
  settled,
  started,
  type RecordBatchLine,
} from './sync/recordBatchLine';

export interface PollCycleInput {
  connection: string;
  /** Children started at once; the cycle waits for each wave of QuickBooks-side records before the next. */
  wave?: number;
  /** Record batches running at once (default 4); the others wait, started and held, for their turn. */
  batchesAtOnce?: number;
  /**
   * History events after which a cycle reading QuickBooks continues as new (default 10,000; Temporal's own suggestion
   * ends it earlier), so its history does not grow with the records read.
   */
  historyLimit?: number;
  /**
   * Records per page asked of QuickBooks in a streamed read (default 250): smaller pages make a read of a few records
   * span round trips, as a large one does (the replay fixtures of a run that continued as new mid-read).
   */
  pageSize?: number;
  /**
   * Ids of a read's overlap window a cursor keeps (default `OVERLAP_IDS_AT_MOST`): fewer in the recorded histories of
   * a crowded instant, which the demo company's records of one second make at this count.
   */
  overlapIdsAtMost?: number;
  /**
   * Bytes of deletions and invoice facts a read continuing as new carries at most (default
   * `CARRIED_FACTS_BYTES_AT_MOST`); more are recorded before it goes. Smaller in tests, which read few.
   */
  carriedFactsBytesAtMost?: number;
  /** Where the cycle stood when its previous run continued as new; absent on a cycle's first run. */
  carried?: PollCycleCarry;
}

/** What a cycle reading QuickBooks carries into its next run: no record handed off, so it does not grow with them. */
export interface PollCycleCarry {
  start: PollCycleStart;
  ctx: SyncContext;
  choices?: ChoiceMaps;
  knownChoiceNames: PollCycleStart['knownChoiceNames'];
  termsInUse: string[];
  customerTypes?: CustomerTypeRet[];
  /**
   * The own writes not yet read back, once learnt (`ownWritesUnread`; the start then carries none). Runs recorded before
   * carried all own writes learnt here and those it began with in the start.
   */
  ownWrites?: Record<string, string>;
  readVersions: Record<string, string>;
  advanced: Record<string, string>;
  /** Per cursor, the records of this read within its overlap window (the ids the cursor keeps as seen). */
  windows: Record<string, ReadWindow>;
  deletions: ListDeletedRet[];
  deletedInvoices: TxnDeletedRet[];
  /**
   * Invoices linked to QuickBooks sales orders (sales-order mode), recorded on their orders after the read: what their
   * recording needs of them (`salesOrderInvoiceFacts`); runs recorded before carried them whole.
   */
  salesOrderInvoices: SalesOrderInvoiceFacts[];
  result: PollCycleResult;
  progress: { total: number; done: number };
  read: PendingQbxml;
  /** The record batches started and not yet reported (absent in runs recorded before batches reported). */
  batches?: RecordBatchLine;
}

export interface PollCycleResult {
  connection: string;
  /** Records handed to their own workflows, per side and entity. */
  handedOff: Record<string, number>;
  /** Outcomes of the QuickBooks-side records (the Dynamics side runs on, waiting for QBWC sessions). */
  outcomes: Record<string, number>;
  failed: string[];
  retried: number;
  choicesAdded: string[];
  invoicesRecorded: number;
  /** Orders whose QuickBooks invoice was deleted, now showing it (absent in cycles recorded before). */
  invoicesDeleted?: number;
  /** Orders sent as QuickBooks sales orders whose linked invoices changed, now showing them (absent before). */
  salesOrdersInvoiced?: number;
  echoesSkipped: number;
  /** Workflow ids of the Dynamics rows handed off (first 100), for the cycle's own audit. */
  dynamicsIds: string[];
  /** Lists whose answer QuickBooks gave could not be read, with why: their cursors stayed and the cycle failed. */
  unreadable?: { list: string; reason: string }[];
}

/** List name in the cursor keys and the qbXML query of each QuickBooks list the cycle reads. */
const QB_LISTS = [
  { list: 'Customer', entity: 'customer' },
  { list: 'Vendor', entity: 'vendor' },
  { list: 'Item', entity: 'item' },
] as const;

/** Records per batch workflow at most, whatever their size. */
const BATCH_SIZE = BATCH_RECORDS_AT_MOST;

/**
 * Issue 11 item 5: the cycle hands records off page by page as QuickBooks' answers come and continues as new while
 * it reads, instead of holding every page in its history. Runs started before read everything first.
 */
const STREAMED_READ_PATCH = 'poll-cycle-streamed-read';
/**
 * Issue 11: each page comes with the connector's own writes among its records as the company file knew them when it
 * delivered the page, and they count as the cycle's own: a Mod answered after the cycle took the own writes (at its
 * first page) and read back by a later page is an echo, not a person's edit. Runs started before ignore them.
 */
const OWN_WRITES_PER_PAGE_PATCH = 'poll-cycle-own-writes-per-page';
/**
 * Issue 11 item 5 at scale: record batches are started, not awaited, and report back by signal, and a page's invoices
 * are recorded together. A cycle awaiting each batch (a minute at scale) while QuickBooks' pages kept coming handled
 * every page before it could pause: at scale 1, one run of 14.2 MB. Runs started before await their batches.
 */
const BATCHES_REPORT_PATCH = 'poll-cycle-batches-report';
/**
 * Issue 11 item 3: a list whose answer could not be read keeps its cursor while the rest of the cycle syncs, and the
 * cycle fails at its end naming it (`unreadableReads`). Runs recorded before failed at once.
 */
const UNREADABLE_LIST_PATCH = 'poll-cycle-unreadable-list-skipped';
/**
 * Issue 15: an instant whose records would carry a read's overlap window past `OVERLAP_IDS_AT_MOST` is given up
 * (`CrowdedInstants`), so what a cycle carries over continue-as-new stays within Temporal's payload limit. Runs recorded
 * before kept it whole; asked only when a window would pass the bound.
 */
const CROWDED_INSTANT_PATCH = 'poll-cycle-crowded-instant-skipped';
/**
 * Issue 15: a batch's records also fit `BATCH_BYTES_AT_MOST`: 500 records of over 4 KB (long notes) made a batch input
 * Temporal refuses (2 MB a payload), and the cycle never got past that batch. Runs recorded before cut by count alone;
 * asked only when the bytes cut a batch shorter.
 */
const BATCH_BYTES_PATCH = 'poll-cycle-batch-bytes';
/**
 * A read continuing as new records its deletions, deleted invoices and invoices of sales orders before it goes once
 * they pass `CARRIED_FACTS_BYTES_AT_MOST`, instead of carrying them to its end. Asked only then: runs recorded before
 * carried them whole.
 */
const CARRY_SETTLED_PATCH = 'poll-cycle-carry-settled';
/** The length of the batch starting at `from`: by count, and by bytes for runs from `BATCH_BYTES_PATCH` on. */
function nextBatchLength(records: readonly QbRecord[], from = 0): number {
  const byCount = Math.min(BATCH_SIZE, records.length - from);
  const byBytes = recordBatchLength(records, from);
  return byBytes < byCount && patched(BATCH_BYTES_PATCH) ? byBytes : byCount;
}
/** Record batches running at once unless the input says otherwise. */
const BATCHES_AT_ONCE = 4;
/** A cycle waiting for its batches fails after this long without any report, naming the batches it waits for. */
const BATCH_REPORTS_QUIET_AT_MOST = '2 hours';
const HISTORY_LIMIT = 10_000;
/**
 * Records per page of a streamed read unless the input says otherwise. A round trip brings back at most
 * `maxRecordsPerRoundTrip` records (500 by default): pages of 100 left a read of 10,000 customers, or a poll re-reading
 * 2,000 items of one second and 1,000 new invoices, at one or two pages a round trip (issue 15), where two pages of 250
 * fill it. The first page may be too large for one Update (1.5 MB: 6 KB a record at 250, several times a customer or
 * an invoice of five lines); the company file then asks for half the page (`company-file-halve-unreadable-page`).
 */
const PAGE_SIZE = 250;
/**
 * How long a cycle's orders wait for its new accounts' runs: their customers need a Web Connector session, typically
 * every 5 to 60 minutes; past this the orders start anyway and each makes its customer as it would have.
 */
const NEW_ACCOUNTS_WAIT_MS = 15 * 60 * 1000;
/** Temporal refuses histories over 50 MB; a run hands over long before. */
const HISTORY_BYTES_LIMIT = 10 * 1024 * 1024;

/**
 * One poll of one connection (`poll/<connection>`, started by its Temporal Schedule with overlap Skip): references
 * first, then customers, vendors and items, then sales orders, then invoice payments back onto their orders.
 * QuickBooks is read in one QBWC round trip for all lists; each changed record goes to its own workflow. Cursors
 * advance only past records handed off; records whose last run failed are run again.
 */
export async function pollCycle(input: PollCycleInput): Promise<PollCycleResult> {
  if (input.carried || patched(STREAMED_READ_PATCH)) return streamedPollCycle(input);
  const { connection } = input;
  const result = emptyResult(connection);
  const { progress, advance } = pollProgress(connection, { total: 0, done: 0 });

  const start = await syncContext.beginPollCycle({ connection });
  const cursors = start.cursors;
  let ctx = start.context;
  const advanced: Record<string, string> = {};
  // The connector's own writes as known once the read is answered (below); until then, as the cycle began.
  let ownWrites: Readonly<Record<string, string>> = start.ownWrites;
  // The version the connector itself wrote comes back as modified: an echo, not a change.
  const ownEcho = (r: QbRecord): boolean => {
    const id = recordId(r);
    return (
      id !== '' && 'editSequence' in r && (start.ownWrites[id] === r.editSequence || ownWrites[id] === r.editSequence)
    );
  };
  const readOwnWrites: string[] = [];
  /** The version of each own-written record this read saw: only those are forgotten. */
  const readVersions: Record<string, string> = {};

  // ---- QuickBooks: every list changed since its cursor, in one batch (one round trip when nothing changed) ----
  // Each read starts an overlap window before its cursor (a late commit, the repeated hour when clocks go back);
  // records read again there with the EditSequence already handed off are dropped. Runs started before the window
  // existed read from the cursor itself.
  const overlapMs = patched('poll-cycle-quickbooks-overlap') ? QUICKBOOKS_OVERLAP_MS : 0;
  const since = (key: string): { fromModifiedDate?: string } => {
    const from = readFrom(cursors, key, overlapMs);
    return from ? { fromModifiedDate: from } : {};
  };
  // Runs started before deletions were read keep the batch they had.
  const readsDeletions = patched('poll-cycle-list-deletions');
  const readsInvoiceDeletions = patched('poll-cycle-invoice-deletions');
  // Sales-order mode (issue 16): invoices are read with the sales orders they were made from, so an invoice accounting
  // links to a sales order is noticed. Runs started before read invoices without their links.
  const followsSalesOrders = patched('poll-cycle-sales-order-invoices');
  const outcomes = await runQbxml(
    connection,
    (batchId) => {
      const requests: QbxmlRequest[] = [
        { type: 'CustomerTypeQuery', requestId: `${batchId}-types`, activeStatus: 'All' },
      ];
      for (const { list } of QB_LISTS) {
        requests.push({
          type: `${list}Query`,
          requestId: `${batchId}-${list}`,
          ...since(`qb:${list}`),
          activeStatus: 'All',
          maxReturned: 100,
          iterator: 'Start',
        } as QbxmlRequest);
      }
      requests.push({
        type: 'InvoiceQuery',
        requestId: `${batchId}-Invoice`,
        // The first read starts at the configured date, not at the first invoice the file ever held.
        fromModifiedDate: invoiceReadFrom(
          since('qb:Invoice').fromModifiedDate,
          ctx.settings.invoices.cursorStart,
          Date.now(),
        ),
        maxReturned: 100,
        iterator: 'Start',
        ...(followsSalesOrders ? { includeLinkedTxns: true } : {}),
      });
      if (readsDeletions) {
        const from = readFrom(cursors, DELETIONS_CURSOR, overlapMs);
        requests.push({
          type: 'ListDeletedQuery',
          requestId: `${batchId}-ListDeleted`,
          listDelTypes: [...DELETED_LIST_TYPES],
          ...(from ? { fromDeletedDate: from } : {}),
        });
      }
      if (readsInvoiceDeletions) {
        const from = readFrom(cursors, INVOICE_DELETIONS_CURSOR, overlapMs);
        requests.push({
          type: 'TxnDeletedQuery',
          requestId: `${batchId}-TxnDeleted`,
          txnDelTypes: ['Invoice'],
          ...(from ? { fromDeletedDate: from } : {}),
        });
      }
      return requests;
    },
    { followUp: false },
  );
  // A write answered after the cycle began and before this read (a Dynamics row's Mod, seconds ago) is known to the
  // company file from its answer on, but not to `start`: without asking again, the poll would take the connector's own
  // write for a QuickBooks edit, newer than the Dynamics save it carried. Cycles recorded before did not ask.
  const ownWritesAfterRead = patched('poll-cycle-own-writes-after-read');
  if (ownWritesAfterRead) ownWrites = await syncContext.ownWritesOf({ connection });
  const [typesOutcome, ...listOutcomes] = outcomes;
  const customerTypes = responseOrFail(typesOutcome, 'reading customer types').records as CustomerTypeRet[];
  const lists = new Map<string, QbRecord[]>();
  [...QB_LISTS.map((l) => l.list), 'Invoice'].forEach((list, i) => {
    const records = responseOrFail(listOutcomes[i], `reading the ${list} list`).records;
    lists.set(
      list,
      unseen(records, cursors, `qb:${list}`).filter((r) => !ownEcho(r)),
    );
    for (const r of records) {
      const id = recordId(r);
      if (id in start.ownWrites) readOwnWrites.push(id);
      if ((id in start.ownWrites || id in ownWrites) && 'editSequence' in r && typeof r.editSequence === 'string') {
        readVersions[id] = r.editSequence;
      }
    }
    Object.assign(advanced, cursorAfter(`qb:${list}`, records, cursors, overlapMs));
  });
  // ---- deletions: read after the lists in the same batch; each goes to its record's workflow ----
  let deletions = new Map<QuickBooksEntity, ListDeletedRet[]>();
  if (readsDeletions) {
    const read = responseOrFail(listOutcomes[QB_LISTS.length + 1], 'reading deleted list records').records;
    deletions = deletionsByEntity(unseen(read, cursors, DELETIONS_CURSOR) as ListDeletedRet[]);
    Object.assign(advanced, cursorAfter(DELETIONS_CURSOR, read, cursors, overlapMs));
  }
  let deletedInvoices: TxnDeletedRet[] = [];
  if (readsInvoiceDeletions) {
    const at = QB_LISTS.length + 1 + (readsDeletions ? 1 : 0);
    const read = responseOrFail(listOutcomes[at], 'reading deleted invoices').records;
    deletedInvoices = unseen(read, cursors, INVOICE_DELETIONS_CURSOR) as TxnDeletedRet[];
    Object.assign(advanced, cursorAfter(INVOICE_DELETIONS_CURSOR, read, cursors, overlapMs));
  }

  // ---- references: customer types and terms have their Dynamics options before any customer is mapped ----
  const references = await alignReferenceChoices(connection, { customerTypes, lists }, start, ctx, result.choicesAdded);
  ctx = references.ctx;
  const choices = references.choices;

  const syncBatch = recordBatches(input, result, () => ({ settings: ctx.settings, choices }), advance);

  for (const { list, entity } of QB_LISTS) {
    progress.total += (lists.get(list) ?? []).filter((r) => entity !== 'item' || isSyncedItem(r)).length;
  }
  progress.phase = 'QuickBooks → Dynamics';

  // ---- QuickBooks → Dynamics: parents before their jobs, so a job's parent account exists to bind to ----
  for (const { list, entity } of QB_LISTS) {
    const records = (lists.get(list) ?? []).filter((r) => entity !== 'item' || isSyncedItem(r));
    const byLevel = [...records].sort((a, b) => sublevel(a) - sublevel(b));
    const levels = [...new Set(byLevel.map(sublevel))];
    for (const level of levels) {
      const atLevel = byLevel.filter((r) => sublevel(r) === level);
      for (let i = 0, length = 0; i < atLevel.length; i += length) {
        length = nextBatchLength(atLevel, i);
        await syncBatch({ connection, entity, records: atLevel.slice(i, i + length), withRecord: true });
      }
    }
  }

  // ---- deletions after the edits read in the same cycle, so a row's last change is its deactivation ----
  for (const [entity, records] of deletions) {
    progress.total += records.length;
    for (let i = 0; i < records.length; i += BATCH_SIZE) {
      await syncBatch({ connection, entity, records: records.slice(i, i + BATCH_SIZE), withRecord: true });
    }
  }

  return finishCycle(
    { input, start, ctx, result, progress, advance, syncBatch, settle: () => Promise.resolve() },
    {
      paymentInvoices: (lists.get('Invoice') ?? []) as InvoiceRet[],
      deletedInvoices,
      salesOrderInvoices: followsSalesOrders ? ((lists.get('Invoice') ?? []) as InvoiceRet[]) : undefined,
      forget: ownWritesAfterRead ? readVersions : readOwnWrites,
      advanced,
    },
  );
}

/** What the end of a cycle works with, however it read QuickBooks. */
interface CycleParts {
  input: PollCycleInput;
  start: PollCycleStart;
  ctx: SyncContext;
  result: PollCycleResult;
  progress: PollProgress;
  advance: (done: number, phase: PollProgress['phase']) => void;
  syncBatch: (batch: RecordBatch) => Promise<void>;
  /** Waits until every batch handed off has reported (batches the cycle awaits have, once handed off). */
  settle: () => Promise<void>;
  /** Batches are started, not awaited (`BATCHES_REPORT_PATCH`): failed Dynamics rows go only once they are done. */
  batchesReport?: boolean;
}

/** A batch as the cycle hands it off; `afterEarlier`: it runs only once every batch before it is done. */
type RecordBatch = Omit<QuickBooksRecordBatchInput, 'settings' | 'choices' | 'wave' | 'reportTo' | 'held'> & {
  afterEarlier?: boolean;
};

/**
 * After the QuickBooks lists are handed off: failed records again, Dynamics changes, payments, deleted invoices,
 * invoiced sales orders; then the own writes read are forgotten and the cursors advanced.
 */
async function finishCycle(
  { input, start, ctx, result, progress, advance, syncBatch, settle, batchesReport }: CycleParts,
  read: {
    /** Invoices whose payments are still to be recorded (none when they were recorded as pages came). */
    paymentInvoices: InvoiceRet[];
    deletedInvoices: TxnDeletedRet[];
    /** Invoices that may link to QuickBooks sales orders; absent in runs without sales-order mode. */
    salesOrderInvoices: SalesOrderInvoiceFacts[] | undefined;
    forget: Record<string, string> | string[];
    advanced: Record<string, string>;
  },
): Promise<PollCycleResult> {
  const { connection } = input;
  const { cursors } = start;
  const { deletedInvoices, advanced } = read;
  // ---- records whose last run failed: run again, reading their source afresh ----
  const failedByEntity = new Map<QuickBooksEntity, QbRecord[]>();
  /** Failed Dynamics rows, run again once this cycle's QuickBooks records are in Dynamics (batches not awaited). */
  const failedRows: { entity: DynamicsEntity; id: string }[] = [];
  for (const workflowId of start.failedRecords) {
    result.retried += 1;
    const record = parseRecordWorkflowId(workflowId);
    if (record?.side === 'quickbooks') {
      const records = failedByEntity.get(record.entity) ?? [];
      records.push({ listId: record.listId } as QbRecord);
      failedByEntity.set(record.entity, records);
    } else if (record?.side === 'dynamics') {
      if (batchesReport) failedRows.push({ entity: record.entity, id: record.id });
      else await handOffDynamicsRows(connection, [record], result, false);
    }
  }
  // One batch per entity, not per record: each batch is a workflow of its own.
  for (const [entity, records] of failedByEntity) {
    await syncBatch({ connection, entity, records, withRecord: false, afterEarlier: true });
  }
  // Dynamics rows need the customers and items of this cycle's QuickBooks records in Dynamics first.
  await settle();
  // Rows' runs start a group at a time: one at a time, the 2,000 rows a table Dataverse lists took about 5 events each,
  // up to 40,000 in this run, near Temporal's 51,200-event limit. Cycles recorded before start them one by one.
  const rowsTogether = patched('poll-cycle-dynamics-rows-together');
  await handOffDynamicsRows(connection, failedRows, result, rowsTogether);

  // ---- Dynamics → QuickBooks: accounts and products first, orders and won opportunities after (they need customers
  // and items). Runs started before opportunities were synced neither read nor hand off opportunities.
  const wonOpportunities = patched('poll-cycle-won-opportunities');
  const dynamicsTables = wonOpportunities
    ? (['account', 'product', 'salesorder', 'opportunity'] as const)
    : (['account', 'product', 'salesorder'] as const);
  const changes = await dataverse.listDataverseChanges({
    connection,
    receivesNewAccounts: ctx.receivingConnection === connection,
    since: {
      account: cursors['d365:account'],
      product: cursors['d365:product'],
      salesorder: cursors['d365:salesorder'],
      ...(wonOpportunities ? { opportunity: cursors['d365:opportunity'] } : {}),
    },
    afterIds: {
      account: cursors['d365:account:seen'],
      product: cursors['d365:product:seen'],
      salesorder: cursors['d365:salesorder:seen'],
      ...(wonOpportunities ? { opportunity: cursors['d365:opportunity:seen'] } : {}),
    },
    ...(wonOpportunities ? { wonOpportunities: true } : {}),
  });
  result.echoesSkipped = changes.echoesSkipped;
  const opportunityIds = wonOpportunities ? (changes.opportunityIds ?? []) : [];
  progress.total +=
    changes.accountIds.length + changes.productIds.length + changes.salesOrderIds.length + opportunityIds.length;
  progress.phase = 'Dynamics → QuickBooks';
  let newAccountsMade: Promise<void> | undefined;
  for (const [entity, ids] of [
    ['account', changes.accountIds],
    ['product', changes.productIds],
    ['salesorder', changes.salesOrderIds],
    ['opportunity', opportunityIds],
  ] as const) {
    // An order (or won opportunity) of a new account would make its customer itself, beside the account's own run: at
    // scale each of them looked the customer up, added it or found it added, and failed to pair the row its rivals had
    // just paired, retrying, 1,941 times in the benchmark's load. So they start once this cycle's new accounts are
    // customers, or after `NEW_ACCOUNTS_WAIT_MS` (QuickBooks not reached meanwhile: each then makes its customer as
    // before). Cycles recorded before started them at once.
    if (
      (entity === 'salesorder' || entity === 'opportunity') &&
      ids.length > 0 &&
      newAccountsMade &&
      patched('poll-cycle-orders-after-new-accounts')
    ) {
      let made = false;
      void newAccountsMade.then(() => (made = true));
      await condition(() => made, NEW_ACCOUNTS_WAIT_MS);
      newAccountsMade = undefined;
    }
    // A table's rows are all started before the next table's: an order's run needs its customer's account's run.
    const runs = await handOffDynamicsRows(
      connection,
      ids.map((id) => ({ entity, id })),
      result,
      rowsTogether,
      entity === 'account' ? new Set(changes.newAccountIds ?? []) : undefined,
    );
    if (entity === 'account' && (changes.newAccountIds ?? []).length > 0) newAccountsMade = runs.ended;
    if (ids.length > 0) advance(ids.length, 'Dynamics → QuickBooks');
  }
  for (const entity of dynamicsTables) {
    const cursor = changes.cursors[entity];
    if (cursor) advanced[`d365:${entity}`] = cursor;
    // The last row's id moves with its second (the company file takes `:seen` only with its cursor).
    const afterId = changes.afterIds?.[entity];
    if (cursor && afterId) advanced[`d365:${entity}:seen`] = afterId;
  }

  progress.phase = 'payments';
  // ---- payments: an invoice's balance and paid state follow onto its invoice row in Dynamics ----
  await recordPayments(connection, read.paymentInvoices, result);
  // ---- invoices deleted in QuickBooks: their invoice rows say so (canceled) ----
  await recordDeletedInvoices(deletedInvoices, result);
  // ---- sales-order mode: invoices linked to QuickBooks sales orders onto their Dynamics orders and invoice rows ----
  if (read.salesOrderInvoices) await recordSalesOrderInvoicing(connection, read.salesOrderInvoices, result);

  progress.phase = 'done';
  if (Object.keys(read.forget).length > 0) {
    await getExternalWorkflowHandle(companyFileWorkflowId(connection)).signal(forgetOwnWritesSignal, read.forget);
  }
  if (Object.entries(advanced).some(([key, value]) => cursors[key] !== value)) {
    await getExternalWorkflowHandle(companyFileWorkflowId(connection)).signal(advanceCursorsSignal, advanced);
  }
  return result;
}

/**
 * The cursors a read has moved, as carried over continue-as-new: without the seen lists of the cursors whose overlap
 * window is carried, since `seenAfter` makes each again from the window. Carrying both put every id of a window in the
 * payload twice.
 */
function withoutSeenLists(
  advanced: Readonly<Record<string, string>>,
  windows: Readonly<Record<string, ReadWindow>>,
): Record<string, string> {
  const carried = { ...advanced };
  for (const key of Object.keys(windows)) delete carried[`${key}:seen`];
  return carried;
}

/** The cursors a carried read had moved, with the seen lists `withoutSeenLists` left out made again. */
function withSeenLists(
  carried: Readonly<Record<string, string>>,
  cursors: Readonly<Record<string, string>>,
  windows: Readonly<Record<string, ReadWindow>>,
): Record<string, string> {
  const advanced = { ...carried };
  for (const [key, window] of Object.entries(windows)) {
    const latest = advanced[key];
    // Runs recorded before carried the lists themselves.
    if (latest !== undefined && advanced[`${key}:seen`] === undefined) {
      advanced[`${key}:seen`] = seenAfter(key, cursors, latest, window);
    }
  }
  return advanced;
}

/**
 * The own writes a cycle carries over continue-as-new: those it began with and those it learnt since, as one map, less
 * the records its read has met already (`readVersions` holds their versions read, to be forgotten at the end). A read
 * meets each record once, so their own writes are not needed again. Carrying every own write twice (in the start and
 * as learnt) and the ones read a third time put a burst of 20,000 connector writes past Temporal's payload limit in
 * the next poll.
 */
function ownWritesUnread(
  began: Readonly<Record<string, string>>,
  learnt: Readonly<Record<string, string>>,
  readVersions: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...began, ...learnt }).filter(([id]) => readVersions[id] === undefined));
}

function emptyResult(connection: string): PollCycleResult {
  return {
    connection,
    handedOff: {},
    outcomes: {},
    failed: [],
    retried: 0,
    choicesAdded: [],
    invoicesRecorded: 0,
    echoesSkipped: 0,
    dynamicsIds: [],
  };
}

/** The cycle's progress, answered to `pollProgressQuery`; a run continued as new goes on from `so far`. */
function pollProgress(
  connection: string,
  soFar: { total: number; done: number },
): { progress: PollProgress; advance: CycleParts['advance'] } {
  const startedAt = Date.now();
  const progress: PollProgress = {
    connection,
    phase: 'reading QuickBooks',
    total: soFar.total,
    done: soFar.done,
    perSecond: 0,
    secondsLeft: null,
  };
  setHandler(pollProgressQuery, () => progress);
  let doneHere = 0;
  const advance = (done: number, phase: PollProgress['phase']): void => {
    progress.done += done;
    doneHere += done;
    progress.phase = phase;
    const seconds = (Date.now() - startedAt) / 1000;
    progress.perSecond = seconds > 0 ? doneHere / seconds : 0;
    progress.secondsLeft =
      progress.perSecond > 0 ? Math.max(0, (progress.total - progress.done) / progress.perSecond) : null;
    log.info(`poll ${connection} ${describePollProgress(progress)}`, { ...progress });
  };
  return { progress, advance };
}

/** Hands one batch of QuickBooks-side records to its own child workflow, so this cycle's history stays small. */
function recordBatches(
  input: PollCycleInput,
  into: PollCycleResult,
  mapping: () => { settings: SyncContext['settings']; choices: ChoiceMaps },
  advance: CycleParts['advance'],
): CycleParts['syncBatch'] {
  let batches = 0;
  return async ({ afterEarlier: _awaitedInOrderAnyway, ...batch }) => {
    batches += 1;
    const done = await executeChild(quickbooksRecordBatch, {
      workflowId: `${workflowInfo().workflowId}/${workflowInfo().runId.slice(0, 8)}/${batch.entity}-${batches}`,
      args: [{ ...batch, ...mapping(), wave: input.wave ?? 100 }],
    });
    tally(into, done);
    advance(batch.records.length, 'QuickBooks → Dynamics');
  };
}

/** A batch's handed-off records, outcomes and failed records into the cycle's result. */
function tally(into: PollCycleResult, done: QuickBooksRecordBatchResult): void {
  for (const [key, n] of Object.entries(done.handedOff)) into.handedOff[key] = (into.handedOff[key] ?? 0) + Number(n);
  for (const [key, n] of Object.entries(done.outcomes)) into.outcomes[key] = (into.outcomes[key] ?? 0) + Number(n);
  into.failed.push(...done.failed);
}

/**
 * Record batches started and not awaited (`BATCHES_REPORT_PATCH`): each goes to its own workflow at once, held if its
 * turn has not come (`RecordBatchLine`), and tells the cycle by signal when it is done. The handler is set before the
 * run's first await, so reports sent while the cycle continued as new reach the run that carries the line.
 */
function reportingBatches(
  input: PollCycleInput,
  into: PollCycleResult,
  mapping: () => { settings: SyncContext['settings']; choices: ChoiceMaps },
  advance: CycleParts['advance'],
  carried: RecordBatchLine | undefined,
): Pick<CycleParts, 'syncBatch' | 'settle'> & { delivered: () => Promise<void>; line: () => RecordBatchLine } {
  const atOnce = Math.max(1, input.batchesAtOnce ?? BATCHES_AT_ONCE);
  const cycle = workflowInfo().workflowId;
  let line = carried ?? EMPTY_LINE;
  let reports = 0;
  /** Releases sent and not yet delivered: the server drops a signal whose sending run has closed meanwhile. */
  const releasing = new Set<Promise<void>>();
  const releaseTurns = (): void => {
    const next = releases(line, atOnce);
    line = next.line;
    for (const batchId of next.release) {
      const release = getExternalWorkflowHandle(batchId)
        .signal(recordBatchReleaseSignal)
        .catch((err: unknown) => {
          // Reported already (it ran by itself after its hold, and is gone): nothing to wait for.
          if (!awaits(line, batchId)) return;
          // Gone (terminated by hand): it will never report, and the cycle must not wait for it.
          line = reported(line, batchId, `could not be released: ${err instanceof Error ? err.message : String(err)}`);
          reports += 1;
          releaseTurns();
        })
        .finally(() => releasing.delete(release));
      releasing.add(release);
    }
  };
  /** Before the run continues as new: every release sent is delivered (a report meanwhile may send another). */
  const delivered = async (): Promise<void> => {
    while (releasing.size > 0) await Promise.all([...releasing]);
  };
  setHandler(recordBatchReportSignal, ({ batchId, result, error }) => {
    // A batch of an earlier cycle under this workflow id is not this cycle's to count.
    if (!awaits(line, batchId)) return;
    line = reported(line, batchId, error);
    reports += 1;
    if (result) {
      tally(into, result);
      advance(
        Object.values(result.handedOff).reduce((sum, n) => sum + n, 0),
        'QuickBooks → Dynamics',
      );
    }
    releaseTurns();
  });
  let batches = 0;
  const syncBatch = async ({ afterEarlier = false, ...batch }: RecordBatch): Promise<void> => {
    batches += 1;
    const batchId = `${cycle}/${workflowInfo().runId.slice(0, 8)}/${batch.entity}-${batches}`;
    const runs = runsAtOnce(line, afterEarlier, atOnce);
    // Running from the start: its report may come before this run hears it started.
    if (runs) line = started(line, batchId, true, afterEarlier);
    await startChild(quickbooksRecordBatch, {
      workflowId: batchId,
      args: [{ ...batch, ...mapping(), wave: input.wave ?? 100, reportTo: cycle, ...(runs ? {} : { held: true }) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    // Held from now on, not before: a release is sent only to a batch known to be started.
    if (!runs) {
      line = started(line, batchId, false, afterEarlier);
      releaseTurns();
    }
  };
  const settle = async (): Promise<void> => {
    while (!settled(line)) {
      const heard = reports;
      if (!(await condition(() => settled(line) || reports !== heard, BATCH_REPORTS_QUIET_AT_MOST))) {
        const waiting = [...line.running, ...line.held.map((h) => h.batchId)];
        throw ApplicationFailure.nonRetryable(
          `no record batch has reported in ${BATCH_REPORTS_QUIET_AT_MOST}; waiting for ${waiting.join(', ')}`,
          'RecordBatchesSilent',
        );
      }
    }
    if (line.errors.length > 0) {
      throw ApplicationFailure.nonRetryable(`record batches failed: ${line.errors.join('; ')}`, 'RecordBatchFailed');
    }
  };
  return { syncBatch, settle, delivered, line: () => line };
}

/**
 * Pages of a list handed off together, level by level: a job binds to its parent's account, and the records of one
 * batch workflow run side by side (their rows even travel in one bulk call), so a level goes only once the level above
 * it is done.
 */
function byLevel(records: QbRecord[]): QbRecord[][] {
  const levels = new Map<number, QbRecord[]>();
  for (const record of records) {
    const level = sublevel(record);
    levels.set(level, [...(levels.get(level) ?? []), record]);
  }
  return [...levels.entries()].sort(([a], [b]) => a - b).map(([, atLevel]) => atLevel);
}

/**
 * The cycle of issue 11 item 5: one batch reads every list as before (one QBWC session when idle), but each page is
 * handed off as it comes — records to batch workflows once a batch's worth is in, payments onto their orders — and
 * forgotten; when the history nears its limit the run continues as new with the read still going. The company file
 * sends the pages to the workflow id, so the next run receives the rest. Cursors still advance only at the end.
 */
async function streamedPollCycle(input: PollCycleInput): Promise<PollCycleResult> {
  const { connection } = input;
  const carried = input.carried;
  // Asked before the first await: the batches' report handler must be set before any report is delivered.
  const batchesReport = patched(BATCHES_REPORT_PATCH);
  const result = carried?.result ?? emptyResult(connection);
  const { progress, advance } = pollProgress(connection, carried?.progress ?? { total: 0, done: 0 });
  // Set below, once the cycle has begun; read only when a batch is handed off, after that.
  let ctx!: SyncContext;
  let choices = carried?.choices;
  const mapping = () => ({ settings: ctx.settings, choices: choices! });
  const reporting = batchesReport ? reportingBatches(input, result, mapping, advance, carried?.batches) : undefined;
  const syncBatch = reporting?.syncBatch ?? recordBatches(input, result, mapping, advance);
  const settle = reporting?.settle ?? (() => Promise.resolve());
  const start = carried?.start ?? (await syncContext.beginPollCycle({ connection }));
  const { cursors } = start;
  ctx = carried?.ctx ?? start.context;
  let knownChoiceNames = carried?.knownChoiceNames ?? start.knownChoiceNames;
  const termsInUse = new Set(carried?.termsInUse ?? []);
  let customerTypes = carried?.customerTypes;
  // Carried with the ones it began with, less those read (`ownWritesUnread`); cycles recorded before carried both whole.
  let ownWrites = carried?.ownWrites ? { ...start.ownWrites, ...carried.ownWrites } : undefined;
  const readVersions = carried?.readVersions ?? {};
  const windows = carried?.windows ?? {};
  const advanced = carried ? withSeenLists(carried.advanced, cursors, windows) : {};
  const overlapMs = QUICKBOOKS_OVERLAP_MS;
  /** Asked the first time a window would pass its bound; runs recorded before kept a crowded instant whole. */
  let crowdedInstants: CrowdedInstants | undefined;
  const idsAtMost = input.overlapIdsAtMost ?? OVERLAP_IDS_AT_MOST;
  /** The cursor moves as pages come; the company file is told only at the end, once every record is handed off. */
  const moveCursor = (key: string, records: QbRecord[]): void => {
    const window = windows[key] ?? {};
    let moved = cursorAfterPage(key, records, cursors, advanced, window, overlapMs, { idsAtMost, crowdedInstants });
    if (crowdedInstants === undefined && Object.keys(moved.window).length > idsAtMost) {
      crowdedInstants = patched(CROWDED_INSTANT_PATCH) ? 'skipped' : 'kept';
      moved = cursorAfterPage(key, records, cursors, advanced, window, overlapMs, { idsAtMost, crowdedInstants });
    }
    Object.assign(advanced, moved.advanced);
    windows[key] = moved.window;
  };
  const deletions = carried?.deletions ?? [];
  const deletedInvoices = carried?.deletedInvoices ?? [];
  const salesOrderInvoices = carried?.salesOrderInvoices ?? [];

  /** Customer types and terms have their Dynamics options before a record using them is mapped. */
  const align = async (): Promise<void> => {
    const aligned = await alignReferenceChoices(
      connection,
      { customerTypes: customerTypes ?? [], lists: new Map(), termsInUse: [...termsInUse] },
      { ...start, knownChoiceNames },
      ctx,
      result.choicesAdded,
    );
    ctx = aligned.ctx;
    choices = aligned.choices;
    knownChoiceNames = aligned.known;
  };

  /** Records read and not yet handed off, per list: less than a batch each between pages. */
  const waiting = new Map<string, QbRecord[]>();
  const handOff = async (list: string, all: boolean): Promise<void> => {
    const records = waiting.get(list) ?? [];
    const entity = QB_LISTS.find((l) => l.list === list)!.entity;
    for (;;) {
      const length = nextBatchLength(records);
      // A batch short of its count waits for the next page, unless its bytes cut it or the read is done.
      if (length === 0 || (length === records.length && length < BATCH_SIZE && !all)) break;
      const batch = records.splice(0, length);
      const terms = batch.map((r) => (r as CustomerRet | VendorRet).termsRef?.fullName).filter((t) => t !== undefined);
      if (!choices || terms.some((t) => !termsInUse.has(t))) {
        for (const t of terms) termsInUse.add(t);
        await align();
      }
      for (const level of byLevel(batch)) {
        // A job binds to its parent's account: its level runs once the batches before it (its parent's) are done.
        const afterEarlier = sublevel(level[0]!) > 0;
        await syncBatch({ connection, entity, records: level, withRecord: true, afterEarlier });
      }
    }
  };
  const handOffAll = async (): Promise<void> => {
    for (const { list } of QB_LISTS) await handOff(list, true);
  };
  /** Deletions go once every edit read before them is handed off, so a row's last change is its deactivation. */
  const handOffDeletions = async (records: readonly ListDeletedRet[]): Promise<void> => {
    for (const [entity, ofEntity] of deletionsByEntity([...records])) {
      progress.total += ofEntity.length;
      for (let i = 0; i < ofEntity.length; i += BATCH_SIZE) {
        const slice = ofEntity.slice(i, i + BATCH_SIZE);
        await syncBatch({ connection, entity, records: slice, withRecord: true, afterEarlier: true });
      }
    }
  };

  /** Asked at this run's first page carrying own writes (runs before the patch never get that far), then kept. */
  let perPage: boolean | undefined;
  const listOf = (requestId: string): string => requestId.slice(requestId.lastIndexOf('-') + 1);
  const onPage = async (
    requestId: string,
    page: { records: QbRecord[] },
    delivered: Readonly<Record<string, string>>,
  ): Promise<void> => {
    // A write answered after the cycle began and before this read is the company file's to know once QuickBooks
    // answers the read's first round trip: asked then, once, as cycles before asked after the whole read.
    ownWrites ??= await syncContext.ownWritesOf({ connection });
    if (perPage === undefined && Object.keys(delivered).length > 0) perPage = patched(OWN_WRITES_PER_PAGE_PATCH);
    // Writes answered since then are known to the page that reads them back, from the company file's delivery.
    const pageOwnWrites: Readonly<Record<string, string>> = perPage ? delivered : {};
    const ownEcho = (r: QbRecord): boolean => {
      const id = recordId(r);
      return (
        id !== '' &&
        'editSequence' in r &&
        (start.ownWrites[id] === r.editSequence ||
          ownWrites?.[id] === r.editSequence ||
          pageOwnWrites[id] === r.editSequence)
      );
    };
    const list = listOf(requestId);
    const { records } = page;
    if (list === 'types') {
      customerTypes = records as CustomerTypeRet[];
      return;
    }
    if (list === 'ListDeleted') {
      deletions.push(...(unseen(records, cursors, DELETIONS_CURSOR) as ListDeletedRet[]));
      moveCursor(DELETIONS_CURSOR, records);
      return;
    }
    if (list === 'TxnDeleted') {
      deletedInvoices.push(...(unseen(records, cursors, INVOICE_DELETIONS_CURSOR) as TxnDeletedRet[]));
      moveCursor(INVOICE_DELETIONS_CURSOR, records);
      return;
    }
    for (const r of records) {
      const id = recordId(r);
      if (
        (id in start.ownWrites || id in ownWrites || id in pageOwnWrites) &&
        'editSequence' in r &&
        typeof r.editSequence === 'string'
      ) {
        readVersions[id] = r.editSequence;
      }
    }
    const changed = unseen(records, cursors, `qb:${list}`).filter((r) => !ownEcho(r));
    if (list === 'Invoice') {
      for (const invoice of changed as InvoiceRet[]) {
        if (linkedSalesOrders([invoice]).length > 0) salesOrderInvoices.push(salesOrderInvoiceFacts(invoice));
      }
      await recordPayments(connection, changed as InvoiceRet[], result, batchesReport);
    } else {
      const synced = changed.filter((r) => list !== 'Item' || isSyncedItem(r));
      progress.total += synced.length;
      waiting.set(list, [...(waiting.get(list) ?? []), ...synced]);
      await handOff(list, false);
    }
    moveCursor(`qb:${list}`, records);
  };

  const limit = input.historyLimit ?? HISTORY_LIMIT;
  const read = await readQbxml(
    connection,
    carried?.read ??
      ((batchId) => [
        { type: 'CustomerTypeQuery', requestId: `${batchId}-types`, activeStatus: 'All' },
        ...QB_LISTS.map(
          ({ list }) =>
            ({
              type: `${list}Query`,
              requestId: `${batchId}-${list}`,
              ...fromCursor(cursors, `qb:${list}`, overlapMs),
              activeStatus: 'All',
              maxReturned: input.pageSize ?? PAGE_SIZE,
              iterator: 'Start',
            }) as QbxmlRequest,
        ),
        {
          type: 'InvoiceQuery',
          requestId: `${batchId}-Invoice`,
          // The first read starts at the configured date, not at the first invoice the file ever held.
          fromModifiedDate: invoiceReadFrom(
            readFrom(cursors, 'qb:Invoice', overlapMs),
            ctx.settings.invoices.cursorStart,
            Date.now(),
          ),
          maxReturned: input.pageSize ?? PAGE_SIZE,
          iterator: 'Start',
          includeLinkedTxns: true,
        },
        {
          type: 'ListDeletedQuery',
          requestId: `${batchId}-ListDeleted`,
          listDelTypes: [...DELETED_LIST_TYPES],
          ...fromDeleted(cursors, DELETIONS_CURSOR, overlapMs),
        },
        {
          type: 'TxnDeletedQuery',
          requestId: `${batchId}-TxnDeleted`,
          txnDelTypes: ['Invoice'],
          ...fromDeleted(cursors, INVOICE_DELETIONS_CURSOR, overlapMs),
        },
      ]),
    {
      followUp: false,
      collectRecords: false,
      onPage,
      pauseWhen: () => {
        const info = workflowInfo();
        return info.continueAsNewSuggested || info.historyLength >= limit || info.historySize >= HISTORY_BYTES_LIMIT;
      },
    },
  );
  if ('pending' in read) {
    // What waits is handed off first, so the next run carries no record.
    await handOffAll();
    if (
      carriedFactsBytes([deletions, deletedInvoices, salesOrderInvoices]) >
        (input.carriedFactsBytesAtMost ?? CARRIED_FACTS_BYTES_AT_MOST) &&
      patched(CARRY_SETTLED_PATCH)
    ) {
      // Carried from run to run until the read ends, these grew with it, past Temporal's 2 MB a payload for a large
      // first read (thousands of invoices of sales orders over its 90 days, a purge of list records), and a
      // continue-as-new refused fails the cycle, and every cycle after it. So they are recorded now, as they would be
      // at the end; every edit read before them is handed off already.
      if (!choices) await align();
      await handOffDeletions(deletions.splice(0));
      await recordDeletedInvoices(deletedInvoices.splice(0), result);
      await recordSalesOrderInvoicing(connection, salesOrderInvoices.splice(0), result);
    }
    await reporting?.delivered();
    const unread = ownWrites ? ownWritesUnread(start.ownWrites, ownWrites, readVersions) : undefined;
    const carry: PollCycleCarry = {
      // The own writes it began with travel in `ownWrites`, once the cycle has learnt them (at its first page).
      start: unread ? { ...start, ownWrites: {} } : start,
      ctx,
      ...(choices ? { choices } : {}),
      knownChoiceNames,
      termsInUse: [...termsInUse],
      ...(customerTypes ? { customerTypes } : {}),
      ...(unread ? { ownWrites: unread } : {}),
      readVersions,
      advanced: withoutSeenLists(advanced, windows),
      windows,
      deletions,
      deletedInvoices,
      salesOrderInvoices,
      result,
      progress: { total: progress.total, done: progress.done },
      read: read.pending(),
      ...(reporting ? { batches: reporting.line() } : {}),
    };
    return continueAsNew<typeof pollCycle>({ ...input, carried: carry });
  }
  // Any list QuickBooks could not read fails the cycle before a cursor moves, but for an unreadable answer (below).
  const [types, ...lists] = read.outcomes;
  responseOrFail(types, 'reading customer types');
  const unreadable = unreadableReads(lists);
  for (const { key } of unreadable) {
    // Read again from where it stood by the next cycle: what it handed off before the unreadable page goes again.
    for (const suffix of ['', ':seen', ':from']) delete advanced[`${key}${suffix}`];
  }
  const skipped = new Set(unreadable.map((u) => u.list));
  [...QB_LISTS.map((l) => l.list), 'Invoice'].forEach((list, i) => {
    if (!skipped.has(list)) responseOrFail(lists[i], `reading the ${list} list`);
  });
  if (!skipped.has(DELETED_LISTS)) responseOrFail(lists[QB_LISTS.length + 1], 'reading deleted list records');
  if (!skipped.has(DELETED_INVOICES)) responseOrFail(lists[QB_LISTS.length + 2], 'reading deleted invoices');
  if (unreadable.length > 0) result.unreadable = unreadable.map(({ list, reason }) => ({ list, reason }));
  await handOffAll();
  if (!choices) await align();

  // ---- deletions after the edits read in the same cycle, so a row's last change is its deactivation ----
  await handOffDeletions(deletions);
  const finished = await finishCycle(
    { input, start, ctx, result, progress, advance, syncBatch, settle, batchesReport },
    // Own writes stay known while a skipped list is read again: its next read must still tell its echoes.
    {
      paymentInvoices: [],
      deletedInvoices,
      salesOrderInvoices,
      forget: skipped.size > 0 ? {} : readVersions,
      advanced,
    },
  );
  if (unreadable.length > 0) {
    // Loud once everything else synced: a schedule run shows failed, and `qbsync check` and the Web UI with it.
    throw ApplicationFailure.create({
      type: 'UnreadableQuickBooksList',
      nonRetryable: true,
      message:
        unreadable.map(({ list, reason }) => `The poll skipped the ${list} list: ${reason}`).join('; ') +
        '. The record must be fixed in QuickBooks (remove the control character, or trim a very long note); every ' +
        'other list and Dynamics synced, and each poll reads that list again from where it stood.',
      details: [finished],
    });
  }
  return finished;
}

/** The deletion reads, named as lists are in a cycle's result. */
const DELETED_LISTS = 'ListDeleted';
const DELETED_INVOICES = 'TxnDeleted';

/**
 * Issue 11 item 3: the reads of a streamed cycle whose answer QuickBooks gave and the gateway could not read (a note
 * holding `&#11;`, an answer over its body limit), which the company file returns rejected. One such record used to
 * fail every cycle of its company file before any cursor moved or Dynamics was read; now the cycle goes on without
 * that list. Asked only when a read came back unreadable: cycles recorded before failed right there.
 */
function unreadableReads(outcomes: QbxmlOutcome[]): { list: string; key: string; reason: string }[] {
  const reads = [
    ...[...QB_LISTS.map((l) => l.list), 'Invoice'].map((list) => ({ list, key: `qb:${list}` })),
    { list: DELETED_LISTS, key: DELETIONS_CURSOR },
    { list: DELETED_INVOICES, key: INVOICE_DELETIONS_CURSOR },
  ];
  const unreadable = reads.flatMap(({ list, key }, i) => {
    const outcome = outcomes[i];
    return outcome?.kind === 'rejected' && outcome.hresult === UNREADABLE_ANSWER_HRESULT
      ? [{ list, key, reason: outcome.message }]
      : [];
  });
  return unreadable.length > 0 && patched(UNREADABLE_LIST_PATCH) ? unreadable : [];
}

function fromCursor(cursors: Readonly<Record<string, string>>, key: string, overlapMs: number) {
  const from = readFrom(cursors, key, overlapMs);
  return from ? { fromModifiedDate: from } : {};
}

function fromDeleted(cursors: Readonly<Record<string, string>>, key: string, overlapMs: number) {
  const from = readFrom(cursors, key, overlapMs);
  return from ? { fromDeletedDate: from } : {};
}

/** Invoices deleted in QuickBooks: their invoice rows say so (canceled). */
async function recordDeletedInvoices(
  deletedInvoices: readonly TxnDeletedRet[],
  result: PollCycleResult,
): Promise<void> {
  for (const deleted of deletedInvoices) {
    const recorded = await dataverse.recordInvoiceDeleted({ txnId: deleted.txnId });
    if (recorded.changed) result.invoicesDeleted = (result.invoicesDeleted ?? 0) + 1;
  }
}

/** Sales-order mode: invoices linked to QuickBooks sales orders onto their Dynamics orders and invoice rows. */
async function recordSalesOrderInvoicing(
  connection: string,
  invoices: readonly SalesOrderInvoiceFacts[],
  result: PollCycleResult,
): Promise<void> {
  const salesOrderIds = linkedSalesOrders(invoices);
  if (salesOrderIds.length === 0) return;
  // How far each is invoiced is the sales order's to say (IsFullyInvoiced), and it names every invoice of it.
  const [read] = await runQbxml(connection, (batchId) => [
    { type: 'SalesOrderQuery', requestId: `${batchId}-SalesOrder`, txnIds: salesOrderIds, includeLinkedTxns: true },
  ]);
  const salesOrders = responseOrFail(read, 'reading the invoiced sales orders').records as SalesOrderRet[];
  for (const salesOrder of salesOrders) {
    const plan = salesOrderInvoicing(salesOrder, invoices, connection);
    if (!plan.ok) {
      log.warn('invoices of a QuickBooks sales order cannot be recorded', {
        salesOrder: salesOrder.txnId,
        errors: plan.errors.map((e) => `${e.field}: ${e.rule}`),
      });
      continue;
    }
    const recorded = await dataverse.recordSalesOrderInvoicing({ ...plan.value, connection });
    if (recorded.changed) result.salesOrdersInvoiced = (result.salesOrdersInvoiced ?? 0) + 1;
  }
}

/**
 * An invoice's balance and paid state follow onto its invoice row in Dynamics. `together`: a page's invoices at once, so
 * the page is handled in moments while QuickBooks' next pages come (`BATCHES_REPORT_PATCH`); runs before, one by one.
 */
async function recordPayments(
  connection: string,
  invoices: InvoiceRet[],
  result: PollCycleResult,
  together = false,
): Promise<void> {
  const record = async (invoice: InvoiceRet): Promise<boolean> => {
    const orderId = orderIdOfInvoiceLink(invoice.externalGuid);
    if (!orderId || !invoice.refNumber) return false;
    const recorded = await dataverse.recordInvoicePayment({
      orderId,
      txnId: invoice.txnId,
      balance: invoice.balanceRemaining ?? '',
      paid: invoice.isPaid ?? false,
      connection,
    });
    return recorded.changed;
  };
  if (together) {
    result.invoicesRecorded += (await Promise.all(invoices.map(record))).filter(Boolean).length;
    return;
  }
  for (const invoice of invoices) if (await record(invoice)) result.invoicesRecorded += 1;
}
