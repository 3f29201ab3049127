import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { DataverseRowsPageInput } from '../activities/reconcile';
import { type ChoiceMaps } from '../mapping';
import { classifyStatus, type QbxmlRequest, type QbxmlResponse } from '../qbxml/requests';
import {
  comparedRead,
  type DynamicsRow,
  type InvoiceProjection,
  type ListProjection,
  ordersNeedingLineCheck,
  projectCustomer,
  projectInvoice,
  projectItem,
  projectOrder,
  projectVendor,
  reconcileConnection,
  withDeletedInvoiceRows,
} from '../reconcile/compare';
import { INVOICE_ROW, ORDER_INVOICE_STATUS_COLUMN, TXN_ID_COLUMN } from '../mapping/entityRegistry';
import { DELETED_INVOICE_STATUS } from '../mapping/quickbooksDeletions';
import { type ReconcileReport } from '../reconcile/report';
import { runQbxml } from './companyFile/runQbxml';
import { reconcileReads, syncContext } from './sync/activities';

/**
 * Reads one connection's QuickBooks company file and its Dataverse rows and reports what is out of agreement. Read
 * only: it changes nothing on either side. Both reads keep compact projections, never whole records, so a company
 * file with tens of thousands of customers fits in the workflow's memory and the report in one payload.
 */

export interface ReconcileWorkflowInput {
  connection: string;
  /** Most entries per list in the report (default 200). */
  listLimit?: number;
  /** QuickBooks iterator page size (default 100). */
  quickBooksPageSize?: number;
}

const { readDataverseRowsPage, salesOrdersWithLines } = reconcileReads;
const { loadSyncContext } = syncContext;

const ORDER_IDS_PER_CALL = 500;

/** Reconcile reads the invoice rows of invoices deleted in QuickBooks (issue 13 item 1: the order is read-only). */
const READS_INVOICE_ROWS = 'reconcile-reads-deleted-invoice-rows';
const INVOICE_ELEMENTS = ['TxnID', 'RefNumber', 'CustomerRef', 'Subtotal', 'SalesTaxTotal', 'ExternalGUID'];

type QuickBooksList = 'customers' | 'vendors' | 'items' | 'invoices';

interface QuickBooksSide {
  customers: ListProjection[];
  vendors: ListProjection[];
  items: ListProjection[];
  invoices: InvoiceProjection[];
}

function odataText(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function readQuickBooks(connection: string, choices: ChoiceMaps, pageSize: number): Promise<QuickBooksSide> {
  // Keyed by ListID/TxnID: a page QuickBooks sends again after a broken session replaces, never duplicates.
  const customers = new Map<string, ListProjection>();
  const vendors = new Map<string, ListProjection>();
  const items = new Map<string, ListProjection>();
  const invoices = new Map<string, InvoiceProjection>();
  const ctx = { companyFile: connection, choices };
  const listOf = new Map<string, QuickBooksList>();
  const failures: string[] = [];

  const onPage = (requestId: string, response: QbxmlResponse): void => {
    const list = listOf.get(requestId);
    if (classifyStatus(response) === 'error') {
      failures.push(`${list ?? requestId}: QuickBooks status ${response.statusCode} ${response.statusMessage}`);
      return;
    }
    for (const record of response.records) {
      if (list === 'customers' && record.kind === 'Customer') {
        customers.set(record.listId, projectCustomer(record, ctx));
      } else if (list === 'vendors' && record.kind === 'Vendor') {
        vendors.set(record.listId, projectVendor(record, ctx));
      } else if (list === 'items') {
        const item = projectItem(record, ctx);
        if (item !== undefined) items.set(item.key, item);
      } else if (list === 'invoices' && record.kind === 'Invoice') {
        invoices.set(record.txnId, projectInvoice(record));
      }
    }
  };

  const outcomes = await runQbxml(
    connection,
    (batchId) => {
      const iterate = { maxReturned: pageSize, iterator: 'Start' as const };
      const requests: [QuickBooksList, QbxmlRequest][] = [
        ['customers', { type: 'CustomerQuery', requestId: `${batchId}-c`, ...iterate, activeStatus: 'All' }],
        ['vendors', { type: 'VendorQuery', requestId: `${batchId}-v`, ...iterate, activeStatus: 'All' }],
        ['items', { type: 'ItemQuery', requestId: `${batchId}-i`, ...iterate, activeStatus: 'All' }],
        [
          'invoices',
          { type: 'InvoiceQuery', requestId: `${batchId}-n`, ...iterate, includeRetElements: INVOICE_ELEMENTS },
        ],
      ];
      for (const [list, request] of requests) listOf.set(request.requestId, list);
      return requests.map(([, request]) => request);
    },
    { collectRecords: false, onPage, followUp: false },
  );
  for (const outcome of outcomes) {
    if (outcome.kind !== 'response') {
      const reason = outcome.kind === 'rejected' ? `${outcome.hresult} ${outcome.message}` : outcome.reason;
      failures.push(`${listOf.get(outcome.requestId) ?? outcome.requestId}: ${reason}`);
    }
  }
  if (failures.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `QuickBooks company file "${connection}" could not be read completely, so nothing was compared: ${failures.join('; ')}`,
      'QuickBooksReadFailed',
    );
  }
  return {
    customers: [...customers.values()],
    vendors: [...vendors.values()],
    items: [...items.values()],
    invoices: [...invoices.values()],
  };
}

async function readRows(request: Omit<DataverseRowsPageInput, 'pageToken'>, onRows: (rows: DynamicsRow[]) => void) {
  let pageToken: string | undefined;
  do {
    const page = await readDataverseRowsPage({ ...request, ...(pageToken !== undefined ? { pageToken } : {}) });
    onRows(page.rows);
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
}

interface DynamicsSide {
  accounts: DynamicsRow[];
  products: DynamicsRow[];
  orderRows: DynamicsRow[];
  /** Invoice rows showing their QuickBooks invoice was deleted (empty in runs recorded before invoice rows). */
  deletedInvoiceRows: DynamicsRow[];
  /** Every account of the connection: Dataverse id → ListID ('' while it has none). */
  listIdOfAccount: Map<string, string>;
}

async function readDynamics(connection: string, receivesNewAccounts: boolean): Promise<DynamicsSide> {
  const ours = `qbsync_companyfile eq ${odataText(connection)}`;
  const accounts: DynamicsRow[] = [];
  const products: DynamicsRow[] = [];
  const orderRows: DynamicsRow[] = [];
  const collect = (into: DynamicsRow[]) => (rows: DynamicsRow[]) => {
    into.push(...rows);
  };
  const reads = [
    readRows({ ...comparedRead('account'), filter: ours }, collect(accounts)),
    readRows({ ...comparedRead('product'), filter: ours }, collect(products)),
  ];
  if (receivesNewAccounts) {
    // Accounts (customers or untyped) and products created in Dynamics are due in this company file until the sync
    // claims them, as the poll cycle picks them up.
    const unclaimed = 'qbsync_companyfile eq null';
    reads.push(
      readRows(
        { ...comparedRead('account'), filter: `${unclaimed} and (customertypecode eq 3 or customertypecode eq null)` },
        collect(accounts),
      ),
      readRows({ ...comparedRead('product'), filter: unclaimed }, collect(products)),
    );
  }
  await Promise.all(reads);

  const listIdOfAccount = new Map<string, string>();
  for (const account of accounts) {
    const id = String(account.accountid ?? '').toLowerCase();
    if (id !== '') listIdOfAccount.set(id, String(account.qbsync_qblistid ?? ''));
  }
  // Orders tagged with this connection, plus untagged ones (not invoiced yet) whose customer is one of its accounts.
  const orderRead = comparedRead('salesorder');
  await Promise.all([
    readRows({ ...orderRead, filter: ours }, collect(orderRows)),
    readRows({ ...orderRead, filter: 'qbsync_companyfile eq null' }, (rows) => {
      for (const row of rows) {
        if (listIdOfAccount.has(String(row._customerid_value ?? '').toLowerCase())) orderRows.push(row);
      }
    }),
  ]);
  const deletedInvoiceRows: DynamicsRow[] = [];
  if (patched(READS_INVOICE_ROWS)) {
    await readRows(
      {
        entitySet: INVOICE_ROW.entitySet,
        select: [INVOICE_ROW.idColumn, TXN_ID_COLUMN, ORDER_INVOICE_STATUS_COLUMN],
        filter: `${ORDER_INVOICE_STATUS_COLUMN} eq ${odataText(DELETED_INVOICE_STATUS)} and (${ours} or qbsync_companyfile eq null)`,
      },
      collect(deletedInvoiceRows),
    );
  }
  return { accounts, products, orderRows, deletedInvoiceRows, listIdOfAccount };
}

export async function reconcile(input: ReconcileWorkflowInput): Promise<ReconcileReport> {
  const connection = input.connection;
  // The sync's own settings and choice maps (configured pairs, then Dataverse labels): a record the sync could not
  // map is reported as unmappable, never as a difference the sync would not fix.
  const context = await loadSyncContext({ connection });

  // Dataverse is read while the company file waits for the Web Connector's next session.
  const [quickbooks, dynamics] = await Promise.all([
    readQuickBooks(connection, context.choices, input.quickBooksPageSize ?? 100),
    readDynamics(connection, context.receivingConnection === connection),
  ]);

  const orders = withDeletedInvoiceRows(
    dynamics.orderRows.map((row) => projectOrder(row, dynamics.listIdOfAccount)),
    dynamics.deletedInvoiceRows,
  );
  const candidates = ordersNeedingLineCheck(orders);
  const orderIdsWithLines = new Set<string>();
  for (let start = 0; start < candidates.length; start += ORDER_IDS_PER_CALL) {
    const found = await salesOrdersWithLines({ orderIds: candidates.slice(start, start + ORDER_IDS_PER_CALL) });
    for (const id of found) orderIdsWithLines.add(id);
  }

  return reconcileConnection({
    connection,
    generatedAt: new Date().toISOString(),
    ...quickbooks,
    accounts: dynamics.accounts,
    products: dynamics.products,
    orders,
    orderIdsWithLines,
    ...(input.listLimit !== undefined ? { listLimit: input.listLimit } : {}),
  });
}
