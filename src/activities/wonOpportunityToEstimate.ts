import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import { type OpportunityProductRecord, type OpportunityRecord } from '../mapping/dataverseRows';
import {
  COMPANY_FILE_COLUMN,
  ESTIMATE_NUMBER_COLUMN,
  ESTIMATE_TXN_ID_COLUMN,
  LIST_ID_COLUMN,
  TABLES,
} from '../mapping/entityRegistry';
import { opportunityAccountId } from '../mapping/wonOpportunityToEstimate';
import { recordSynced } from '../observability/metrics';
import { asFailure } from './dataverseFailure';
import { fromWire, textOf, textPatch } from './dataverseRows';
import { type SalesOrderForInvoice } from './dataverseSalesOrders';

/**
 * The Dataverse side of the won opportunity → estimate flow (`mapping/wonOpportunityToEstimate.ts`): the opportunity
 * with its products and account as the flow needs them, and the estimate's TxnID and number back onto it.
 */

export interface WonOpportunity {
  opportunity: OpportunityRecord & { statecode: number };
  lines: OpportunityProductRecord[];
  /** The opportunity's account, or null when it names none (or only a contact). */
  account: { accountId: string; name: string; companyFile: string | null; listId: string | null } | null;
  /** productid → its QuickBooks identity, as for orders (`itemsForOrder` finds or makes the items). */
  products: SalesOrderForInvoice['products'];
}

export interface EstimateOnOpportunityInput {
  opportunityId: string;
  txnId: string;
  estimateNumber: string;
  /** The company file the estimate is in. */
  connection: string;
}

const PAIRING = [COMPANY_FILE_COLUMN, LIST_ID_COLUMN];

export function createWonOpportunityActivities({ dataverse }: { dataverse: DataverseClient }) {
  return {
    /** The opportunity, its products, its account and the products' pairings: four requests at most. */
    async readWonOpportunity(input: { opportunityId: string }): Promise<WonOpportunity | null> {
      try {
        const row = await dataverse.retrieve(TABLES.opportunity.entitySet, input.opportunityId, {
          select: TABLES.opportunity.select,
        });
        if (!row) return null;
        const opportunity = fromWire<WonOpportunity['opportunity']>(row);
        const lines: OpportunityProductRecord[] = [];
        for await (const line of dataverse.queryRows(TABLES.opportunityproduct.entitySet, {
          select: TABLES.opportunityproduct.select,
          filter: `_opportunityid_value eq ${input.opportunityId}`,
        })) {
          lines.push(fromWire<OpportunityProductRecord>(line));
        }
        let account: WonOpportunity['account'] = null;
        const accountId = opportunityAccountId(opportunity);
        // A potential customer that is a contact is not found among accounts: the flow then fails naming it.
        const found = accountId
          ? await dataverse.retrieve(TABLES.account.entitySet, accountId, { select: ['accountid', 'name', ...PAIRING] })
          : null;
        if (found) {
          account = {
            accountId: String(found.accountid),
            name: textOf(found, 'name') ?? '',
            companyFile: textOf(found, COMPANY_FILE_COLUMN),
            listId: textOf(found, LIST_ID_COLUMN),
          };
        }
        const productIds = [...new Set(lines.map((l) => l._productid_value).filter((id): id is string => !!id))];
        const byId = new Map<string, DataverseRow>();
        if (productIds.length > 0) {
          for await (const product of dataverse.queryRows(TABLES.product.entitySet, {
            select: ['productid', 'name', ...PAIRING],
            filter: productIds.map((id) => `productid eq ${id}`).join(' or '),
          })) {
            byId.set(String(product.productid).toLowerCase(), product);
          }
        }
        const products: WonOpportunity['products'] = {};
        for (const productId of productIds) {
          const product = byId.get(productId.toLowerCase());
          products[productId] = {
            name: product ? (textOf(product, 'name') ?? '') : '',
            companyFile: product ? textOf(product, COMPANY_FILE_COLUMN) : null,
            listId: product ? textOf(product, LIST_ID_COLUMN) : null,
          };
        }
        return { opportunity, lines, account, products };
      } catch (err) {
        throw asFailure(err, `reading opportunity ${input.opportunityId}`);
      }
    },

    /**
     * The estimate's TxnID and number, and its company file, onto the opportunity (diff before write; a won
     * opportunity is read-only but for the connector's columns). Written on the row as it now is: nothing the
     * connector reads of it decides what is written.
     */
    async recordEstimateOnOpportunity(input: EstimateOnOpportunityInput): Promise<{ changed: boolean }> {
      try {
        const { changed } = await dataverse.updateWithRetry(
          TABLES.opportunity.entitySet,
          input.opportunityId,
          (row) =>
            textPatch(row, {
              [ESTIMATE_TXN_ID_COLUMN]: input.txnId,
              [ESTIMATE_NUMBER_COLUMN]: input.estimateNumber,
              [COMPANY_FILE_COLUMN]: input.connection,
            }),
          { select: ['opportunityid', ESTIMATE_TXN_ID_COLUMN, ESTIMATE_NUMBER_COLUMN, COMPANY_FILE_COLUMN] },
        );
        recordSynced('opportunity', 'dataverse-to-quickbooks', changed ? 'updated' : 'unchanged');
        return { changed };
      } catch (err) {
        throw asFailure(err, `recording estimate ${input.estimateNumber} on opportunity ${input.opportunityId}`);
      }
    },
  };
}
