import { type DataverseClient } from '../dataverse/client';
import { salesOrderStatusChange, SalesOrderStatusCode } from '../dataverse/entities';
import { odataString } from '../dataverse/odataAddress';
import {
  COMPANY_FILE_COLUMN,
  INVOICE_NUMBER_COLUMN,
  ORDER_INVOICE_STATUS_COLUMN,
  SALES_ORDER_NUMBER_COLUMN,
  SALES_ORDER_TXN_ID_COLUMN,
  TABLES,
} from '../mapping/entityRegistry';
import { orderStillEditable } from '../mapping/salesOrderInvoice';
import { type SalesOrderInvoicing } from '../mapping/salesOrderToQuickBooksSalesOrder';
import { recordSynced } from '../observability/metrics';
import { asFailure } from './dataverseFailure';
import { textPatch } from './dataverseRows';
import { createInvoiceRows } from './dataverseSalesOrders';

/**
 * The Dataverse side of the sales-order mode (`mapping/salesOrderToQuickBooksSalesOrder.ts`): the QuickBooks sales
 * order onto its Dynamics order, then the invoices accounting links to it as the order's invoice rows and the order's
 * invoicing state.
 */

export interface SalesOrderOnOrderInput {
  orderId: string;
  txnId: string;
  salesOrderNumber: string;
  /** The company file the sales order is in. */
  connection: string;
}

export function createSalesOrderModeActivities({ dataverse }: { dataverse: DataverseClient }) {
  const { invoiceRowOf, convertOrder, bringInvoiceRow } = createInvoiceRows(dataverse);
  return {
    /** The QuickBooks sales order's TxnID, number and company file onto the order (diff before write). */
    async recordQuickBooksSalesOrderOnOrder(input: SalesOrderOnOrderInput): Promise<{ changed: boolean }> {
      try {
        const { changed } = await dataverse.updateWithRetry(
          TABLES.salesorder.entitySet,
          input.orderId,
          (row) =>
            textPatch(row, {
              [SALES_ORDER_TXN_ID_COLUMN]: input.txnId,
              [SALES_ORDER_NUMBER_COLUMN]: input.salesOrderNumber,
              [COMPANY_FILE_COLUMN]: input.connection,
            }),
          { select: ['salesorderid', SALES_ORDER_TXN_ID_COLUMN, SALES_ORDER_NUMBER_COLUMN, COMPANY_FILE_COLUMN] },
        );
        recordSynced('salesorder', 'dataverse-to-quickbooks', changed ? 'updated' : 'unchanged');
        return { changed };
      } catch (err) {
        throw asFailure(err, `recording sales order ${input.salesOrderNumber} on order ${input.orderId}`);
      }
    },

    /**
     * The invoices linked to a QuickBooks sales order into Dynamics: each its invoice row (found by TxnID, else the row
     * this order was converted into before its answer was lost, else made now by `ConvertSalesOrderToInvoice`) with its
     * balance and status; then, while the order is editable, the invoice numbers and PartlyInvoiced / Invoiced onto it,
     * and a fully invoiced order to Invoiced (SetState). Rows come first, as in the direct mode. No order of this
     * company file records the sales order (made by hand in QuickBooks): nothing to do.
     */
    async recordSalesOrderInvoicing(
      input: SalesOrderInvoicing & { connection: string },
    ): Promise<{ orderId: string | null; changed: boolean }> {
      try {
        let order: Record<string, unknown> | null = null;
        for await (const row of dataverse.queryRows(TABLES.salesorder.entitySet, {
          select: [
            'salesorderid',
            'statecode',
            COMPANY_FILE_COLUMN,
            INVOICE_NUMBER_COLUMN,
            ORDER_INVOICE_STATUS_COLUMN,
          ],
          filter: `${SALES_ORDER_TXN_ID_COLUMN} eq ${odataString(input.salesOrderTxnId)} and ${COMPANY_FILE_COLUMN} eq ${odataString(input.connection)}`,
          pageSize: 2,
        })) {
          order = row;
          break;
        }
        if (!order) return { orderId: null, changed: false };
        const orderId = String(order.salesorderid);
        let changed = false;
        for (const wanted of input.rows) {
          const found = await invoiceRowOf(orderId, wanted.txnId);
          const row = found ?? (await convertOrder(orderId));
          const wrote = await bringInvoiceRow(row, wanted);
          changed = changed || found === null || wrote;
        }
        if (input.state !== null && orderStillEditable(order.statecode)) {
          const own = textPatch(order, {
            [INVOICE_NUMBER_COLUMN]: input.invoiceNumbers,
            [ORDER_INVOICE_STATUS_COLUMN]: input.state,
          });
          if (own) await dataverse.update(TABLES.salesorder.entitySet, orderId, own);
          if (input.state === 'Invoiced') {
            await dataverse.update(TABLES.salesorder.entitySet, orderId, {
              ...salesOrderStatusChange(SalesOrderStatusCode.Invoiced),
            });
          }
          changed = changed || own !== null || input.state === 'Invoiced';
        }
        recordSynced('salesorder', 'quickbooks-to-dataverse', changed ? 'updated' : 'unchanged');
        return { orderId, changed };
      } catch (err) {
        throw asFailure(err, `recording the invoices of QuickBooks sales order ${input.salesOrderTxnId}`);
      }
    },
  };
}
