import { ApplicationFailure, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { ADD_ATTEMPTS } from '../../mapping/rereadLimits';
import { companyFileWorkflowId, rememberOwnWritesSignal } from '../companyFile/messages';
import type {
  CustomerRet,
  EstimateRet,
  InvoiceRet,
  ListDeletedRet,
  QbRecord,
  QbxmlRequest,
  QbxmlWriteRequest,
  SalesOrderRet,
  VendorRet,
} from '../../qbxml/requests';
import type { SyncedItem } from '../../mapping/itemProduct';
import type { QuickBooksEntity } from '../../mapping/entityRegistry';
import { DELETED_LIST_TYPES, deletedListEntity } from '../../mapping/quickbooksDeletions';
import { responseOrFail } from '../companyFile/qbxmlFailure';
import { runQbxml, type QbxmlOutcome } from '../companyFile/runQbxml';

/** Reads and idempotent writes of single QuickBooks records, through the company file's queue. */

const SYNCED_ITEM_KINDS: ReadonlySet<string> = new Set(['ItemService', 'ItemNonInventory', 'ItemInventory']);

export function isSyncedItem(record: QbRecord): record is SyncedItem {
  return SYNCED_ITEM_KINDS.has(record.kind);
}

async function readOne<R extends QbRecord>(
  connection: string,
  build: (requestId: string) => QbxmlRequest,
  what: string,
): Promise<R[]> {
  const [outcome] = await runQbxml(connection, (batchId) => [build(`${batchId}-q`)]);
  return responseOrFail(outcome, `reading ${what}`).records as R[];
}

export async function readCustomer(
  connection: string,
  by: { listId?: string; fullName?: string },
): Promise<CustomerRet | null> {
  const found = await readOne<CustomerRet>(
    connection,
    (requestId) => ({
      type: 'CustomerQuery',
      requestId,
      ...(by.listId ? { listIds: [by.listId] } : { fullNames: [by.fullName ?? ''] }),
    }),
    `customer ${by.listId ?? by.fullName ?? ''}`,
  );
  return found[0] ?? null;
}

export async function readVendor(connection: string, listId: string): Promise<VendorRet | null> {
  const found = await readOne<VendorRet>(
    connection,
    (requestId) => ({ type: 'VendorQuery', requestId, listIds: [listId] }),
    `vendor ${listId}`,
  );
  return found[0] ?? null;
}

export async function readItem(
  connection: string,
  by: { listId?: string; fullName?: string },
): Promise<SyncedItem | null> {
  const found = await readOne<QbRecord>(
    connection,
    (requestId) => ({
      type: 'ItemQuery',
      requestId,
      ...(by.listId ? { listIds: [by.listId] } : { fullNames: [by.fullName ?? ''] }),
    }),
    `item ${by.listId ?? by.fullName ?? ''}`,
  );
  const item = found[0];
  if (item && !isSyncedItem(item)) {
    throw ApplicationFailure.nonRetryable(
      `QuickBooks item ${by.listId ?? by.fullName ?? ''} is a ${item.kind}, which the connector does not sync as a product`,
      'UnsupportedItem',
    );
  }
  return item ?? null;
}

/** The deletion of a list record, when QuickBooks reports one for its ListID among the deletions of its entity's types. */
export async function readDeletion(
  connection: string,
  entity: QuickBooksEntity,
  listId: string,
): Promise<ListDeletedRet | null> {
  const deleted = await readOne<ListDeletedRet>(
    connection,
    (requestId) => ({
      type: 'ListDeletedQuery',
      requestId,
      listDelTypes: DELETED_LIST_TYPES.filter((t) => deletedListEntity(t) === entity),
    }),
    `deletions of ${entity} records`,
  );
  return deleted.find((d) => d.listId === listId) ?? null;
}

/** Invoices carrying this reference number (QuickBooks does not enforce unique invoice numbers). */
export async function findInvoices(connection: string, refNumber: string): Promise<InvoiceRet[]> {
  return readOne<InvoiceRet>(
    connection,
    (requestId) => ({ type: 'InvoiceQuery', requestId, refNumbers: [refNumber], includeLineItems: true }),
    `invoices numbered ${refNumber}`,
  );
}

/** The invoice with this TxnID as QuickBooks has it now; undefined once it was deleted. */
export async function readInvoice(connection: string, txnId: string): Promise<InvoiceRet | undefined> {
  const found = await readOne<InvoiceRet>(
    connection,
    (requestId) => ({ type: 'InvoiceQuery', requestId, txnIds: [txnId] }),
    `invoice ${txnId}`,
  );
  return found[0];
}

/** Estimates carrying this reference number, with their lines (QuickBooks does not keep estimate numbers unique). */
export async function findEstimates(connection: string, refNumber: string): Promise<EstimateRet[]> {
  return readOne<EstimateRet>(
    connection,
    (requestId) => ({ type: 'EstimateQuery', requestId, refNumbers: [refNumber], includeLineItems: true }),
    `estimates numbered ${refNumber}`,
  );
}

/** Sales orders carrying this reference number, with their lines (QuickBooks does not keep their numbers unique). */
export async function findSalesOrders(connection: string, refNumber: string): Promise<SalesOrderRet[]> {
  return readOne<SalesOrderRet>(
    connection,
    (requestId) => ({ type: 'SalesOrderQuery', requestId, refNumbers: [refNumber], includeLineItems: true }),
    `sales orders numbered ${refNumber}`,
  );
}

export type AddOutcome<R> =
  { kind: 'added'; record: R } | { kind: 'alreadyExists' } | { kind: 'unknown'; reason: string };

const NAME_IN_USE = 3100;

/**
 * Sends one Add. A lost answer (`outcomeUnknown`) is reported, not retried: only the caller knows how to look for the
 * record the Add may have created, which is what keeps a crash or a dropped QBWC response from making a duplicate.
 */
export async function addRecord<R extends QbRecord>(
  connection: string,
  build: (requestId: string) => QbxmlWriteRequest,
  what: string,
): Promise<AddOutcome<R>> {
  const [outcome] = await runQbxml(connection, (batchId) => [build(`${batchId}-a`)]);
  if (outcome?.kind === 'outcomeUnknown') return { kind: 'unknown', reason: outcome.reason };
  if (outcome?.kind === 'response' && outcome.response.statusCode === NAME_IN_USE) return { kind: 'alreadyExists' };
  const response = responseOrFail(outcome as QbxmlOutcome | undefined, `adding ${what}`);
  const record = response.records[0] as R | undefined;
  if (!record) throw ApplicationFailure.retryable(`QuickBooks answered the ${what} Add without the record`, 'EmptyAdd');
  await rememberOwnWrite(connection, record);
  return { kind: 'added', record };
}

/**
 * The list record `find` finds, added when missing. A record already carrying the name (a lost Add answer, a second
 * run, or the same record entered by hand) is taken as this one's: QuickBooks names are unique per list, and this is
 * the documented rule that keeps a retry from creating a twin.
 */
export async function ensureListRecord<R extends QbRecord>(args: {
  connection: string;
  find: () => Promise<R | null>;
  add: (requestId: string) => QbxmlWriteRequest;
  what: string;
  failureType: string;
}): Promise<R> {
  for (let attempt = 1; attempt <= ADD_ATTEMPTS; attempt++) {
    const existing = await args.find();
    if (existing) return existing;
    const added = await addRecord<R>(args.connection, args.add, args.what);
    if (added.kind === 'added') return added.record;
    // Not `what`: it names the record ("customer Dr. Jane Q. Public"); the workflow id in the line is the reference.
    log.info('Add answer lost or name taken; looking it up', { kind: added.kind, attempt });
  }
  throw ApplicationFailure.nonRetryable(`${args.what} could not be created in ${args.connection}`, args.failureType);
}

/** Tells the company file this version is ours, so the next poll does not read it back as a change. */
export async function rememberOwnWrite(connection: string, record: QbRecord): Promise<void> {
  const id = 'listId' in record ? record.listId : 'txnId' in record ? record.txnId : undefined;
  const editSequence = 'editSequence' in record ? record.editSequence : undefined;
  if (!id || !editSequence) return;
  await getExternalWorkflowHandle(companyFileWorkflowId(connection)).signal(rememberOwnWritesSignal, {
    [id]: editSequence,
  });
}
