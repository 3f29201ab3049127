import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import { salesOrderStatusChange, SalesOrderStateCode, SalesOrderStatusCode } from '../dataverse/entities';
import { DataverseNotFoundError } from '../dataverse/errors';
import { type SalesOrderLineRecord, type SalesOrderRecord } from '../mapping';
import {
  INVOICE_NUMBER_COLUMN,
  ORDER_BALANCE_COLUMN,
  ORDER_INVOICE_STATUS_COLUMN,
  TABLES,
  TXN_ID_COLUMN,
} from '../mapping/entityRegistry';
import { deletedInvoiceOnOrder } from '../mapping/quickbooksDeletions';
import { odataString } from '../dataverse/odataAddress';
import { recordSynced } from '../observability/metrics';
import { asFailure } from './dataverseFailure';
import { fromWire, textOf, textPatch } from './dataverseRows';

/**
 * The Dataverse side of the sales order → invoice flow and of payments → order status: the order as the invoice
 * needs it, and the invoice's identity, balance and paid state back onto the order.
 */

export interface SalesOrderForInvoice {
  order: SalesOrderRecord & { statecode: number; statuscode: number; modifiedon?: string };
  lines: SalesOrderLineRecord[];
  customer: { accountId: string; name: string; companyFile: string | null; listId: string | null } | null;
  /** productid → its QuickBooks identity (null when the product is not synced to any company file yet). */
  products: Record<string, { name: string; companyFile: string | null; listId: string | null }>;
}

/** An order and its lines as read at one moment, without what they point at. */
export type SalesOrderVersion = Pick<SalesOrderForInvoice, 'order' | 'lines'>;

export interface InvoiceOnOrder {
  orderId: string;
  txnId: string;
  invoiceNumber: string;
  balance: string;
  paid: boolean;
}

const PAIRING = ['qbsync_companyfile', 'qbsync_qblistid'];

export function createDataverseSalesOrderActivities({ dataverse }: { dataverse: DataverseClient }) {
  /** The order row and its lines: two requests. */
  const readOrderAndLines = async (
    orderId: string,
  ): Promise<{ row: DataverseRow; order: SalesOrderForInvoice['order']; lines: SalesOrderLineRecord[] } | null> => {
    const row = await dataverse.retrieve(TABLES.salesorder.entitySet, orderId, { select: TABLES.salesorder.select });
    if (!row) return null;
    const lines: SalesOrderLineRecord[] = [];
    for await (const line of dataverse.queryRows(TABLES.salesorderdetail.entitySet, {
      select: TABLES.salesorderdetail.select,
      filter: `_salesorderid_value eq ${orderId}`,
    })) {
      lines.push(fromWire<SalesOrderLineRecord>(line));
    }
    return { row, order: fromWire<SalesOrderForInvoice['order']>(row), lines };
  };

  return {
    /**
     * The order and its lines only, without its customer and products: what the flow compares with the read its
     * invoice was built from, right before the Add is queued and once the invoice is recorded.
     */
    async readSalesOrderVersion(input: { orderId: string }): Promise<SalesOrderVersion | null> {
      const read = await readOrderAndLines(input.orderId);
      return read ? { order: read.order, lines: read.lines } : null;
    },

    async readSalesOrderForInvoice(input: { orderId: string }): Promise<SalesOrderForInvoice | null> {
      const read = await readOrderAndLines(input.orderId);
      if (!read) return null;
      const { row, order, lines } = read;
      let customer: SalesOrderForInvoice['customer'] = null;
      const customerId = textOf(row, '_customerid_value');
      if (customerId) {
        const account = await dataverse.retrieve(TABLES.account.entitySet, customerId, {
          select: ['accountid', 'name', ...PAIRING],
        });
        if (account) {
          customer = {
            accountId: String(account.accountid),
            name: textOf(account, 'name') ?? '',
            companyFile: textOf(account, 'qbsync_companyfile'),
            listId: textOf(account, 'qbsync_qblistid'),
          };
        }
      }
      // Every product of the order in one request, not one per line.
      const productIds = [...new Set(lines.map((l) => l._productid_value).filter((id): id is string => !!id))];
      const found = new Map<string, DataverseRow>();
      if (productIds.length > 0) {
        for await (const product of dataverse.queryRows(TABLES.product.entitySet, {
          select: ['productid', 'name', ...PAIRING],
          filter: productIds.map((id) => `productid eq ${id}`).join(' or '),
        })) {
          found.set(String(product.productid).toLowerCase(), product);
        }
      }
      const products: SalesOrderForInvoice['products'] = {};
      for (const productId of productIds) {
        const product = found.get(productId.toLowerCase());
        products[productId] = {
          name: product ? (textOf(product, 'name') ?? '') : '',
          companyFile: product ? textOf(product, 'qbsync_companyfile') : null,
          listId: product ? textOf(product, 'qbsync_qblistid') : null,
        };
      }
      return { order, lines, customer, products };
    },

    /**
     * The invoice's identity and balance onto the order, then the order to Invoiced. In that order: Dynamics makes a
     * non-active order read-only, so the numbers must land first.
     */
    async recordInvoiceOnOrder(input: InvoiceOnOrder): Promise<{ changed: boolean; state: number }> {
      const status = input.paid ? 'Paid' : 'Open';
      try {
        const { changed } = await dataverse.updateWithRetry(
          TABLES.salesorder.entitySet,
          input.orderId,
          (row) =>
            textPatch(row, {
              [TXN_ID_COLUMN]: input.txnId,
              [INVOICE_NUMBER_COLUMN]: input.invoiceNumber,
              [ORDER_BALANCE_COLUMN]: input.balance,
              [ORDER_INVOICE_STATUS_COLUMN]: status,
            }),
          {
            select: [
              'salesorderid',
              'statecode',
              TXN_ID_COLUMN,
              INVOICE_NUMBER_COLUMN,
              ORDER_BALANCE_COLUMN,
              ORDER_INVOICE_STATUS_COLUMN,
            ],
          },
        );
        let state = -1;
        const moved = await dataverse.updateWithRetry(
          TABLES.salesorder.entitySet,
          input.orderId,
          (row) => {
            state = typeof row.statecode === 'number' ? row.statecode : -1;
            return state === SalesOrderStateCode.Active || state === SalesOrderStateCode.Submitted
              ? { ...salesOrderStatusChange(SalesOrderStatusCode.Invoiced) }
              : null;
          },
          { select: ['salesorderid', 'statecode', 'statuscode'] },
        );
        if (moved.changed) state = SalesOrderStateCode.Invoiced;
        recordSynced('salesorder', 'dataverse-to-quickbooks', changed || moved.changed ? 'updated' : 'unchanged');
        return { changed: changed || moved.changed, state };
      } catch (err) {
        throw asFailure(err, `recording invoice ${input.invoiceNumber} on order ${input.orderId}`);
      }
    },

    /**
     * A payment landed in QuickBooks: the invoice's balance and paid state onto the order it was made from. Orders not
     * linked to this invoice yet are left to their own sync, which records everything at once.
     */
    async recordInvoicePayment(input: {
      orderId: string;
      txnId: string;
      balance: string;
      paid: boolean;
    }): Promise<{ changed: boolean }> {
      const status = input.paid ? 'Paid' : 'Open';
      try {
        // One read: the check that the order is linked to this invoice happens on the row the update starts from.
        const { changed } = await dataverse.updateWithRetry(
          TABLES.salesorder.entitySet,
          input.orderId,
          (current) =>
            textOf(current, TXN_ID_COLUMN) !== input.txnId
              ? null
              : textPatch(current, { [ORDER_BALANCE_COLUMN]: input.balance, [ORDER_INVOICE_STATUS_COLUMN]: status }),
          { select: ['salesorderid', TXN_ID_COLUMN, ORDER_BALANCE_COLUMN, ORDER_INVOICE_STATUS_COLUMN] },
        );
        return { changed };
      } catch (err) {
        if (err instanceof DataverseNotFoundError) return { changed: false };
        throw asFailure(err, `recording the payment of invoice ${input.txnId} on order ${input.orderId}`);
      }
    },

    /**
     * The QuickBooks invoice an order was invoiced by was deleted: the order (found by the invoice's TxnID) shows it
     * (`mapping/quickbooksDeletions.ts`). No order carries that TxnID: nothing to do.
     */
    async recordInvoiceDeleted(input: { txnId: string }): Promise<{ orderId: string | null; changed: boolean }> {
      try {
        let orderId: string | null = null;
        for await (const row of dataverse.queryRows(TABLES.salesorder.entitySet, {
          select: ['salesorderid'],
          filter: `${TXN_ID_COLUMN} eq ${odataString(input.txnId)}`,
          pageSize: 2,
        })) {
          orderId = String(row.salesorderid);
          break;
        }
        if (orderId === null) return { orderId: null, changed: false };
        const { changed } = await dataverse.updateWithRetry(
          TABLES.salesorder.entitySet,
          orderId,
          (current) =>
            textOf(current, TXN_ID_COLUMN) !== input.txnId ? null : textPatch(current, deletedInvoiceOnOrder()),
          { select: ['salesorderid', TXN_ID_COLUMN, ORDER_BALANCE_COLUMN, ORDER_INVOICE_STATUS_COLUMN] },
        );
        return { orderId, changed };
      } catch (err) {
        if (err instanceof DataverseNotFoundError) return { orderId: null, changed: false };
        throw asFailure(err, `recording the deletion of invoice ${input.txnId} on its order`);
      }
    },
  };
}
