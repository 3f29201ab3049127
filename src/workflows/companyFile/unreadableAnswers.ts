import { isWriteRequest, type QbxmlRequest } from '../../qbxml/requests';
import type { ReceiveResponseInput } from './messages';
import type { CompanyFileState, PendingRequest, QueueLimits, RoutedCollector } from './companyFileState';

/**
 * `hresult` of a message whose answer as a whole could not be read: over the gateway's body limit, or not qbXML at all.
 * QuickBooks carried the message out; only its answer is lost.
 */
export const UNREADABLE_ANSWER_HRESULT = 'unreadable-response';

/** Whether an answer holds something the gateway could not read (the caller then decides how to treat it). */
export function hasUnreadableAnswer(input: ReceiveResponseInput): boolean {
  return input.hresult === UNREADABLE_ANSWER_HRESULT || (input.unreadable?.length ?? 0) > 0;
}

/** How answers that could not be read are settled. */
export interface UnreadableRules extends Pick<QueueLimits, 'maxUnreadableAnswers'> {
  /**
   * Asked when an iterator's start had an unreadable answer alone: whether it is asked again for half its page (the
   * workflow's version marker). Runs recorded before asked for the same page each time.
   */
  mayHalvePage?: () => boolean;
}

/**
 * One request whose answer could not be read. QuickBooks carried it out, so a write's outcome is unknown (its requester
 * looks before writing again). A query is to be asked again (returned, for the head of the queue), alone, until it has had `maxUnreadableAnswers` unreadable
 * answers of its own; then it goes back to its requester as rejected with the reason, and the queue moves on. An
 * iterator's next page is never asked again: QuickBooks has moved past it, and a second Continue would skip it.
 * `alone` is false when the message held several requests and nothing tells which answer was the culprit: then the
 * query is isolated without being counted.
 */
export function settleUnreadable(
  state: CompanyFileState,
  pending: PendingRequest,
  reason: string,
  how: { alone: boolean; limits: UnreadableRules; routed: RoutedCollector },
): PendingRequest[] {
  const requestId = pending.request.requestId;
  if (isWriteRequest(pending.request)) {
    how.routed.add(pending, { requestId, kind: 'outcomeUnknown', reason: `the answer could not be read: ${reason}` });
    state.totals.resultsRouted += 1;
    return [];
  }
  const answers = (pending.unreadableAnswers ?? 0) + (how.alone ? 1 : 0);
  const isNextPage = 'iterator' in pending.request && pending.request.iterator === 'Continue';
  if (isNextPage || answers >= how.limits.maxUnreadableAnswers) {
    const times = answers === 1 ? 'once' : `${answers} times`;
    how.routed.add(pending, {
      requestId,
      kind: 'rejected',
      hresult: UNREADABLE_ANSWER_HRESULT,
      message: isNextPage
        ? `QuickBooks' answer to the next page could not be read and an iterator cannot go back: ${reason}`
        : `QuickBooks answered ${times}, and the answer could not be read: ${reason}`,
    });
    state.totals.resultsRouted += 1;
    if (state.session) state.session.completed += 1;
    return [];
  }
  // An answer too large for one Update comes back unreadable, and so does the same page asked again. A query that
  // starts an iterator (never its next page: that would skip records) is asked again for half its page, so a
  // list of unusually large records is read in smaller pages rather than rejected; its next pages keep that size, as
  // QuickBooks wants an iterator's requests to repeat the first. A cause in one record (a character XML does not
  // allow) stays in the smaller page and is rejected after the same number of answers.
  const page = 'maxReturned' in pending.request ? pending.request.maxReturned : undefined;
  // Only an iterator's start: a query without one would bring back half its records and never the rest.
  const startsRead = 'iterator' in pending.request && pending.request.iterator === 'Start';
  const request =
    how.alone && startsRead && typeof page === 'number' && page > 1 && how.limits.mayHalvePage?.()
      ? ({ ...pending.request, maxReturned: Math.ceil(page / 2) } as QbxmlRequest)
      : pending.request;
  return [{ ...pending, request, isolate: true, unreadableAnswers: answers }];
}
