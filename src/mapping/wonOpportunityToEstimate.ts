import { type EstimateAddFields, type EstimateRet } from '../qbxml/requests';
import { type OpportunityProductRecord, type OpportunityRecord } from './dataverseRows';
import { invoiceLinkToOrder, orderIdOfInvoiceLink } from './entityRegistry';
import { checkMaxLength, text } from './fields';
import { Issues, type MappingResult } from './result';
import { sellingLines, type SellingLineContext } from './salesOrderInvoice';

/**
 * The won opportunity → estimate flow's decisions (issue 16): whether an opportunity is due, the estimate it becomes,
 * which QuickBooks estimate is its own, and what goes back onto it. Pure: the workflow
 * `workflows/sync/wonOpportunityToEstimate.ts` orders the reads and writes.
 */

/** `opportunity.statecode` (opportunity table reference): Open 0, Won 1, Lost 2. */
export const OpportunityStateCode = { Open: 0, Won: 1, Lost: 2 } as const;

/** qbXML 13 EstimateAdd limits (RefNumber 11, Memo 4095). */
const ESTIMATE_LIMITS = { refNumber: 11, memo: 4095 } as const;

export type OpportunityReadiness =
  /** Won: its account becomes a customer; an estimate follows where the connection makes them. */
  { kind: 'won' } | { kind: 'skip'; note: string; targetId?: string };

/** An opportunity not won is left alone; one that records its estimate is done (a second delivery, a replay). */
export function opportunityReadiness(
  opportunity: Pick<OpportunityRecord, 'statecode' | 'qbsync_estimatetxnid'>,
): OpportunityReadiness {
  if (opportunity.qbsync_estimatetxnid) {
    return { kind: 'skip', note: 'its estimate is already recorded', targetId: opportunity.qbsync_estimatetxnid };
  }
  if (opportunity.statecode !== OpportunityStateCode.Won) return { kind: 'skip', note: 'the opportunity is not won' };
  return { kind: 'won' };
}

/** The account an opportunity is for: its Account, else its potential customer (which may be a contact). */
export function opportunityAccountId(
  opportunity: Pick<OpportunityRecord, '_parentaccountid_value' | '_customerid_value'>,
): string | null {
  return text(opportunity._parentaccountid_value) ?? text(opportunity._customerid_value);
}

/**
 * The estimate's number, from the opportunity's id: `OP-` and the id's first eight hex digits (11 characters, qbXML's
 * limit). Dynamics opportunities carry no number of their own, and the number is what finds the estimate again after
 * a lost answer; two opportunities sharing the eight digits are told apart by the estimate's ExternalGUID (the clash
 * then fails the second, it never takes the first's estimate).
 */
export function estimateNumber(opportunityId: string): string {
  return `OP-${opportunityId.replace(/[{}]/g, '').slice(0, 8).toUpperCase()}`;
}

export interface EstimateMappingContext extends SellingLineContext {
  /** ListID of the QuickBooks customer the opportunity's account is paired with. */
  customerListId: string;
}

/**
 * A won opportunity as a QuickBooks EstimateAdd: its products, quantities and prices as lines (write-ins on the
 * configured item, line and header discounts on the discount item, freight on the freight item, as for invoices),
 * the name and description as the memo, the opportunity's id as ExternalGUID.
 */
export function wonOpportunityToEstimate(
  opportunity: OpportunityRecord,
  lines: readonly OpportunityProductRecord[],
  ctx: EstimateMappingContext,
): MappingResult<EstimateAddFields> {
  const issues = new Issues();
  const customerListId = text(ctx.customerListId);
  if (customerListId === null) {
    issues.add('parentaccountid', 'required', 'the opportunity account has no QuickBooks ListID');
  }
  const fields: EstimateAddFields = { customerRef: { listId: customerListId ?? '' } };
  const id = text(opportunity.opportunityid);
  const link = id === null ? null : invoiceLinkToOrder(id);
  if (id === null || link === null) {
    issues.add('opportunityid', 'required', 'the opportunity id is needed for the estimate number and link');
  } else {
    fields.refNumber = estimateNumber(id);
    fields.externalGuid = link;
  }
  const memo = [text(opportunity.name), text(opportunity.description)].filter((t) => t !== null).join(' — ');
  if (memo !== '') {
    checkMaxLength(issues, 'description', memo, ESTIMATE_LIMITS.memo);
    fields.memo = memo;
  }
  const estimateLines = sellingLines(issues, opportunity, lines, ctx, 'opportunity');
  if (estimateLines.length === 0 && !issues.failed) {
    issues.add('lines', 'required', 'an opportunity without products cannot become an estimate');
  }
  fields.lines = estimateLines;
  return issues.result(fields);
}

export type EstimateMatch = { kind: 'ours'; estimate: EstimateRet } | { kind: 'none' } | { kind: 'numberTaken' };

/**
 * Among the estimates carrying the opportunity's number, the one made from it: same customer and the opportunity's
 * id as ExternalGUID. Another estimate with the number is a clash for the operator, never a reason to add a second
 * one; none at all means it is due (again, after a lost answer).
 */
export function matchEstimate(
  found: readonly EstimateRet[],
  customerListId: string,
  opportunityId: string,
): EstimateMatch {
  const ours = found.find(
    (estimate) =>
      estimate.customerRef?.listId === customerListId &&
      orderIdOfInvoiceLink(estimate.externalGuid) === opportunityId.toLowerCase(),
  );
  if (ours) return { kind: 'ours', estimate: ours };
  return found.length > 0 ? { kind: 'numberTaken' } : { kind: 'none' };
}

export interface EstimateOnOpportunity {
  txnId: string;
  estimateNumber: string;
}

/** What the opportunity records of its estimate: its TxnID and number. */
export function estimateOnOpportunity(
  estimate: Pick<EstimateRet, 'txnId' | 'refNumber'>,
): MappingResult<EstimateOnOpportunity> {
  const issues = new Issues();
  const txnId = text(estimate.txnId);
  if (txnId === null) issues.add('txnId', 'required', 'the estimate has no TxnID');
  const number = text(estimate.refNumber);
  if (number === null) issues.add('refNumber', 'required', 'the estimate has no number (RefNumber)');
  return issues.result({ txnId: txnId ?? '', estimateNumber: number ?? '' });
}
