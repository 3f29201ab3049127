import { ApplicationFailure, log } from '@temporalio/workflow';
import { ADD_ATTEMPTS } from '../../mapping/rereadLimits';
import {
  estimateOnOpportunity,
  matchEstimate,
  opportunityReadiness,
  wonOpportunityToEstimate,
} from '../../mapping/wonOpportunityToEstimate';
import type { EstimateAddFields, EstimateRet } from '../../qbxml/requests';
import { dataverse } from './activities';
import { accountToQuickBooks, type ContextFor, type DynamicsSyncResult } from './dynamicsRowToQuickBooks';
import { addRecord, findEstimates } from './quickbooksRecords';
import { mappedOrFail, markRecord } from './recordOutcome';
import { itemsForOrder } from './salesOrderItems';

/**
 * The won opportunity → estimate flow (issue 16). A won opportunity's account becomes a QuickBooks customer at once
 * (created in the receiving company file when it is not one yet); where the account's connection makes estimates
 * (`opportunities.estimates`), its products become one estimate: items first (found or made, as for orders), then an
 * estimate already carrying the opportunity's number and id is looked for before `EstimateAdd`, which is what makes a
 * second delivery, a crash, a lost QBWC answer or a replay safe. Then the estimate's TxnID and number onto the
 * opportunity. A won opportunity is read-only in Dynamics, so the estimate is built from one read of it.
 * The decisions are `mapping/wonOpportunityToEstimate.ts`'s.
 */
export async function wonOpportunityToQuickBooks(
  opportunityId: string,
  contextFor: ContextFor,
): Promise<DynamicsSyncResult> {
  let read = await dataverse.readWonOpportunity({ opportunityId });
  if (!read) return { outcome: 'unchanged', note: 'the opportunity no longer exists' };
  const readiness = opportunityReadiness(read.opportunity);
  if (readiness.kind === 'skip') {
    // Done before (a second delivery, the poll): the run names the estimate and its company file again.
    const connection = read.opportunity.qbsync_companyfile;
    return {
      outcome: 'unchanged',
      note: readiness.note,
      ...(connection ? { connection } : {}),
      ...(readiness.targetId ? { targetId: readiness.targetId } : {}),
    };
  }
  const what = `Dynamics opportunity ${read.opportunity.name ?? opportunityId}`;
  if (!read.account) {
    throw ApplicationFailure.nonRetryable(`${what} has no account to become a QuickBooks customer`, 'MappingError');
  }

  let customerCreated = false;
  if (!read.account.listId || !read.account.companyFile) {
    // The account is not a customer yet: it becomes one now, in the receiving company file.
    const made = await accountToQuickBooks(read.account.accountId, contextFor);
    customerCreated = made.outcome === 'created';
    read = (await dataverse.readWonOpportunity({ opportunityId })) ?? read;
  }
  const customerListId = read.account?.listId;
  const connection = read.account?.companyFile;
  if (!customerListId || !connection) {
    throw ApplicationFailure.nonRetryable(
      `${what}: its account ${read.account?.name ?? ''} could not be paired with a QuickBooks customer`,
      'MappingError',
    );
  }
  markRecord({ connection });
  const ctx = await contextFor(connection);
  if (!ctx.settings.opportunities.estimates) {
    const outcome = customerCreated ? 'created' : 'unchanged';
    markRecord({ targetId: customerListId, outcome });
    return {
      outcome,
      connection,
      targetId: customerListId,
      note: `the account is customer ${customerListId}; connection ${connection} makes no estimates`,
    };
  }

  const itemListIdByProductId = await itemsForOrder(read, connection, ctx);
  const fields: EstimateAddFields = mappedOrFail(
    wonOpportunityToEstimate(read.opportunity, read.lines, {
      customerListId,
      itemListIdByProductId,
      writeInItem: ctx.settings.items.writeInItem,
      discountItem: ctx.settings.items.discountItem,
      freightItem: ctx.settings.items.freightItem,
    }),
    what,
  );
  const refNumber = fields.refNumber ?? '';

  let estimate: EstimateRet | undefined;
  let outcome: DynamicsSyncResult['outcome'] = 'unchanged';
  for (let attempt = 1; attempt <= ADD_ATTEMPTS && !estimate; attempt++) {
    const match = matchEstimate(await findEstimates(connection, refNumber), customerListId, opportunityId);
    if (match.kind === 'ours') {
      estimate = match.estimate;
      break;
    }
    if (match.kind === 'numberTaken') {
      throw ApplicationFailure.nonRetryable(
        `${what}: QuickBooks already has estimate ${refNumber} for another customer or opportunity`,
        'DuplicateEstimateNumber',
      );
    }
    const added = await addRecord<EstimateRet>(
      connection,
      (requestId) => ({ type: 'EstimateAdd', requestId, fields }),
      `estimate ${refNumber}`,
    );
    if (added.kind === 'added') {
      estimate = added.record;
      outcome = 'created';
    } else {
      // Answer lost: the next pass looks for the estimate before trying again.
      log.info('EstimateAdd answer lost; looking for the estimate', { attempt });
    }
  }
  if (!estimate) throw ApplicationFailure.nonRetryable(`${what}: the estimate could not be added`, 'EstimateAddFailed');

  const recorded = mappedOrFail(estimateOnOpportunity(estimate), `QuickBooks estimate ${refNumber}`);
  markRecord({ targetId: recorded.txnId });
  const written = await dataverse.recordEstimateOnOpportunity({ opportunityId, connection, ...recorded });
  if (outcome === 'unchanged' && (written.changed || customerCreated)) outcome = 'updated';
  markRecord({ outcome });
  return { outcome, connection, targetId: recorded.txnId };
}
