import { continueIterator, isWriteRequest, supportsIterator, type QbxmlRequest } from '../../qbxml/requests';
import type { OpenSessionStatus, QbxmlBatch, ReceiveResponseInput, TakeRequestsResult } from './messages';
import {
  RoutedCollector,
  type CompanyFileState,
  type PendingRequest,
  type QueueLimits,
  type RoutedResults,
  type Session,
} from './companyFileState';
import { settleUnreadable, UNREADABLE_ANSWER_HRESULT, type UnreadableRules } from './unreadableAnswers';

/**
 * The queue of qbXML requests of one company file and the QBWC session draining it, as a pure state machine: what is
 * accepted, what goes out in a round trip, how answers are routed back and what a session's end settles. Its state
 * lives in `companyFileState`; the rules for answers that could not be read in `unreadableAnswers`.
 */

/** Records a query may return when it does not say (QuickBooks has no default cap; we always send MaxReturned). */
const DEFAULT_QUERY_RECORDS = 100;
/**
 * Records a look-up by invoice or estimate number is costed: QuickBooks lets numbers repeat, rarely. An answer larger
 * than the message can carry is still caught: it comes back unreadable and its queries are asked again alone.
 */
const REF_NUMBER_RECORDS = 5;
const SCHEMA_ERROR_HRESULT = '0x80040400';

/** Accepted batches remembered at most; a requester retries an enqueue within minutes, long before its key goes. */
export const MAX_REMEMBERED_BATCHES = 4000;

function batchKey(requester: string, batchId: string): string {
  return `${requester}\u0000${batchId}`;
}

function isPending(state: CompanyFileState, key: string): boolean {
  return [...state.queue, ...state.inFlight].some((p) => batchKey(p.requester, p.batchId) === key);
}

/**
 * The batches of `requester` this run of the company file has never accepted: they were accepted by a run that was
 * terminated or reset away, and will never be answered. Runs of the legacy design kept no memory: nothing is known lost.
 */
export function unknownBatches(state: CompanyFileState, requester: string, batchIds: readonly string[]): string[] {
  const accepted = state.acceptedBatches;
  if (!accepted) return [];
  return batchIds.filter((id) => !accepted.includes(batchKey(requester, id)));
}

/**
 * Queues a batch's requests; false when the batch was accepted before (nothing is queued again). `nowMs` times their
 * arrival for `gatherArrivals`; without it (runs of the legacy design) they are never waited for.
 */
export function enqueue(state: CompanyFileState, batch: QbxmlBatch, nowMs?: number): boolean {
  const accepted = state.acceptedBatches;
  if (accepted) {
    const key = batchKey(batch.requester, batch.batchId);
    if (accepted.includes(key)) return false;
    accepted.push(key);
    // A key goes only once its batch is answered: forgetting a queued batch would let its retry in.
    while (accepted.length > MAX_REMEMBERED_BATCHES && !isPending(state, accepted[0]!)) accepted.shift();
  }
  for (const request of batch.requests) {
    state.queue.push({
      request,
      requester: batch.requester,
      batchId: batch.batchId,
      ...(batch.requesterRunId ? { requesterRunId: batch.requesterRunId } : {}),
      ...(batch.followUp ? { followUp: true } : {}),
      ...(nowMs === undefined ? {} : { queuedAtMs: nowMs }),
    });
  }
  return true;
}

/**
 * Whether this round trip should pause to gather requests still arriving rather than send the few queued. A burst of
 * requester runs (new accounts or orders, each a workflow sending its look-up and then its Add) reaches the queue a few
 * at a time, and each round trip would otherwise carry only what came since the last (6.5 requests a round trip in
 * the benchmark's burst, where issue 15 asks 50). It pauses only while requests from more than one requester arrived
 * within `gatherQuietMs`, so one order alone goes out at once, never while a read's next page waits, and at most
 * `maxGatherHolds` times.
 */
export function gatherArrivals(
  state: CompanyFileState,
  nowMs: number,
  limits: QueueLimits,
  rules: Pick<TakeRules, 'lookupsByCount'> = {},
): boolean {
  const session = state.session;
  if (session === null || state.queue.length === 0) return false;
  if ((session.gatherHolds ?? 0) >= limits.maxGatherHolds) return false;
  if (state.queue.length >= limits.maxRequestsPerRoundTrip || state.queue.some((p) => p.isolate)) return false;
  // A read under way (an iterator's next page) flows on: a load's pages are what a round trip is for.
  if (state.queue.some((p) => 'iterator' in p.request && p.request.iterator === 'Continue')) return false;
  const records = state.queue.reduce((sum, p) => sum + expectedRecords(p.request, rules), 0);
  if (records >= limits.maxRecordsPerRoundTrip) return false;
  const newest = Math.max(...state.queue.map((p) => p.queuedAtMs ?? Number.NEGATIVE_INFINITY));
  if (nowMs - newest >= limits.gatherQuietMs) return false;
  return new Set(state.queue.map((p) => p.requester)).size > 1;
}

/** The requester runs with writes waiting in the queue. */
export function queuedWriters(state: CompanyFileState): { requester: string; runId: string }[] {
  const writers = new Map<string, { requester: string; runId: string }>();
  for (const p of state.queue) {
    if (!p.requesterRunId || !isWriteRequest(p.request)) continue;
    writers.set(`${p.requester}\u0000${p.requesterRunId}`, { requester: p.requester, runId: p.requesterRunId });
  }
  return [...writers.values()];
}

/**
 * Drops the queued requests of requester runs that are gone (terminated, reset, replaced): nobody waits for their
 * answers, and a write sent for them would be applied with no one to record it. Returns how many were dropped.
 */
export function dropGoneRequesters(
  state: CompanyFileState,
  gone: readonly { requester: string; runId: string }[],
): number {
  if (gone.length === 0) return 0;
  const keys = new Set(gone.map((g) => `${g.requester}\u0000${g.runId}`));
  const before = state.queue.length;
  state.queue = state.queue.filter((p) => !p.requesterRunId || !keys.has(`${p.requester}\u0000${p.requesterRunId}`));
  return before - state.queue.length;
}

export function sessionExpired(state: CompanyFileState, nowMs: number, limits: QueueLimits): boolean {
  return state.session !== null && nowMs - state.session.lastSeenAtMs >= limits.sessionIdleTimeoutMs;
}

/**
 * Another Web Connector's session is live and QuickBooks may still be applying a write it was handed. Taking the file
 * over now would report that write as unknown while it runs; the requester would look for its record, not find it
 * yet, and write it again. So a second Web Connector waits (`busy`) until the write is answered or the session expires.
 */
export function liveSessionIsWriting(
  state: CompanyFileState,
  ticketHash: string,
  nowMs: number,
  limits: QueueLimits,
): boolean {
  return (
    state.session !== null &&
    state.session.ticketHash !== ticketHash &&
    !sessionExpired(state, nowMs, limits) &&
    state.inFlight.some((p) => isWriteRequest(p.request))
  );
}

/**
 * The live session has been silent for `writeSettleMs` since it was last seen, which is when it was handed its writes:
 * QuickBooks is done with them whatever became of the session, so `liveSessionIsWriting` no longer holds the file.
 */
export function inFlightWritesSettled(state: CompanyFileState, nowMs: number, limits: QueueLimits): boolean {
  return state.session !== null && nowMs - state.session.lastSeenAtMs >= limits.writeSettleMs;
}

export function openSession(
  state: CompanyFileState,
  ticketHash: string,
  nowMs: number,
  limits: QueueLimits,
): { status: OpenSessionStatus; routed: RoutedResults[] } {
  state.lastConnectedAtMs = nowMs;
  let routed: RoutedResults[] = [];
  if (state.session && state.session.ticketHash !== ticketHash) {
    // The Web Connector runs one session per company file at a time, so a new run means the old one died (QBWC,
    // the network or a gateway stopped mid-session). Waiting for it to expire would block the file for nothing.
    const why = sessionExpired(state, nowMs, limits) ? 'expired' : 'was superseded by a new Web Connector run';
    routed = endSession(state, `the previous QBWC session ${why}`);
  }
  if (state.queue.length === 0 && state.inFlight.length === 0) return { status: 'none', routed };
  state.session = { ticketHash, openedAtMs: nowMs, lastSeenAtMs: nowMs, completed: 0, lastError: '' };
  state.lastError = '';
  state.totals.sessions += 1;
  return { status: 'ok', routed };
}

function isCurrent(state: CompanyFileState, ticketHash: string): state is CompanyFileState & { session: Session } {
  return state.session !== null && state.session.ticketHash === ticketHash;
}

/** How a round trip is put together; both rules are off for runs recorded before them. */
export interface TakeRules {
  /**
   * Asked when the round trip would wait for requests still arriving (`gatherArrivals`); `false` sends what is queued.
   * The workflow's version marker, so it is asked only then.
   */
  mayGather?: () => boolean;
  /**
   * A look-up of named records (ListIDs, FullNames, TxnIDs) brings back at most one record a name, and one by number a
   * few, not a page. Costed as a page, five account runs' look-ups filled `maxRecordsPerRoundTrip` and a burst went five
   * to a round trip.
   */
  lookupsByCount?: boolean;
}

function expectedRecords(request: QbxmlRequest, rules: TakeRules): number {
  if (isWriteRequest(request)) return 1;
  if ('maxReturned' in request && typeof request.maxReturned === 'number') return request.maxReturned;
  if (rules.lookupsByCount) {
    // ListID, FullName and TxnID each name one record.
    const named = [
      'listIds' in request ? request.listIds : undefined,
      'fullNames' in request ? request.fullNames : undefined,
      'txnIds' in request ? request.txnIds : undefined,
    ].find((names) => names !== undefined && names.length > 0);
    if (named) return named.length;
    if ('refNumbers' in request && request.refNumbers && request.refNumbers.length > 0) {
      return request.refNumbers.length * REF_NUMBER_RECORDS;
    }
  }
  return DEFAULT_QUERY_RECORDS;
}

/** A NoOp pause: getLastError must answer `NoOp` too, for QBWC to pause and ask again (both waits use it). */
function answerNoOp(session: Session, state: CompanyFileState): TakeRequestsResult {
  session.lastError = 'NoOp';
  state.lastError = 'NoOp';
  return { status: 'noOp' };
}

/**
 * Hands out the next message's requests, or answers `noOp` while `gatherArrivals` says more are on their way and
 * `rules.mayGather` agrees.
 */
export function takeRequests(
  state: CompanyFileState,
  ticketHash: string,
  nowMs: number,
  limits: QueueLimits,
  rules: TakeRules = {},
): { result: TakeRequestsResult; routed: RoutedResults[] } {
  if (!isCurrent(state, ticketHash)) return { result: { status: 'invalidTicket' }, routed: [] };
  state.session.lastSeenAtMs = nowMs;
  // Whatever was handed out before and never answered is now in doubt: settle it before handing out more.
  const routed = settleInFlight(state, 'no response was received for the previous message');
  if (rules.mayGather && gatherArrivals(state, nowMs, limits, rules) && rules.mayGather()) {
    state.session.gatherHolds = (state.session.gatherHolds ?? 0) + 1;
    return { result: answerNoOp(state.session, state), routed };
  }
  const taken: PendingRequest[] = [];
  let records = 0;
  while (state.queue.length > 0 && taken.length < limits.maxRequestsPerRoundTrip) {
    const next = state.queue[0]!;
    if (next.isolate && taken.length > 0) break;
    const cost = expectedRecords(next.request, rules);
    if (taken.length > 0 && records + cost > limits.maxRecordsPerRoundTrip) break;
    taken.push(state.queue.shift()!);
    records += cost;
    if (next.isolate) break;
  }
  state.inFlight = taken;
  if (taken.length > 0) {
    state.totals.roundTrips += 1;
    state.totals.requestsSent += taken.length;
    state.session.noOps = 0;
    state.session.gatherHolds = 0;
    state.session.lingering = false;
  } else if (state.session.lingering && (state.session.noOps ?? 0) < limits.maxNoOps) {
    state.session.noOps = (state.session.noOps ?? 0) + 1;
    return { result: answerNoOp(state.session, state), routed };
  } else {
    state.session.lastError = 'No requests are waiting for this company file.';
    state.lastError = state.session.lastError;
  }
  return { result: { status: 'ok', requests: taken.map((p) => p.request) }, routed };
}

/**
 * Routes the answer of the last message; returns QBWC's percent done and the results for the requesting workflows.
 * With `unreadable` an answer that could not be read is settled by {@link settleUnreadable}; without it (runs recorded
 * before that rule) its queries go back to the queue however often it happens.
 */
export function receiveResponse(
  state: CompanyFileState,
  input: ReceiveResponseInput,
  nowMs: number,
  unreadable?: UnreadableRules,
): { percent: number; routed: RoutedResults[] } {
  if (!isCurrent(state, input.ticketHash)) {
    state.lastError = 'The ticket is unknown or has expired; start a new QuickBooks Web Connector run.';
    return { percent: -1, routed: [] };
  }
  const session = state.session;
  session.lastSeenAtMs = nowMs;
  const inFlight = state.inFlight;
  state.inFlight = [];
  const routed = new RoutedCollector();

  if (!input.responses) {
    const hresult = input.hresult ?? '';
    const message = input.message ?? '';
    if (unreadable && hresult === UNREADABLE_ANSWER_HRESULT) {
      const reason = message || 'the answer could not be read';
      const again = inFlight.flatMap((pending) =>
        settleUnreadable(state, pending, reason, { alone: inFlight.length === 1, limits: unreadable, routed }),
      );
      state.queue.unshift(...again);
      return { percent: percentDone(state), routed: routed.list() };
    }
    if (hresult.toLowerCase() === SCHEMA_ERROR_HRESULT && inFlight.length > 1) {
      // QuickBooks refused the whole message and applied none of it: find the culprit by sending each request alone.
      state.queue.unshift(...inFlight.map((p) => ({ ...p, isolate: true })));
      return { percent: percentDone(state), routed: routed.list() };
    }
    if (hresult.toLowerCase() === SCHEMA_ERROR_HRESULT && inFlight.length === 1) {
      const only = inFlight[0]!;
      routed.add(only, { requestId: only.request.requestId, kind: 'rejected', hresult, message });
      session.completed += 1;
      state.totals.resultsRouted += 1;
      return { percent: percentDone(state), routed: routed.list() };
    }
    state.inFlight = inFlight;
    session.lastError = `QuickBooks reported ${hresult || 'an error'}: ${message || 'no message'}`;
    state.lastError = session.lastError;
    return { percent: -1, routed: settleInFlight(state, session.lastError) };
  }

  const byId = new Map(input.responses.map((r) => [r.requestId ?? '', r]));
  const unreadableById = new Map((unreadable ? (input.unreadable ?? []) : []).map((u) => [u.requestId ?? '', u]));
  const continuations: PendingRequest[] = [];
  const unanswered: PendingRequest[] = [];
  for (const pending of inFlight) {
    const response = byId.get(pending.request.requestId);
    const unread = unreadableById.get(pending.request.requestId);
    if (!response && unread && unreadable) {
      continuations.push(
        ...settleUnreadable(state, pending, unread.reason, { alone: true, limits: unreadable, routed }),
      );
      continue;
    }
    if (!response) {
      unanswered.push(pending);
      continue;
    }
    const more =
      supportsIterator(pending.request) &&
      response.statusCode === 0 &&
      response.iteratorId !== undefined &&
      (response.iteratorRemainingCount ?? 0) > 0;
    routed.add(pending, { requestId: pending.request.requestId, kind: 'response', response, final: !more });
    state.totals.resultsRouted += 1;
    if (pending.followUp) session.lingering = true;
    if (more) {
      continuations.push({ ...pending, request: continueIterator(pending.request, response.iteratorId!) });
    } else {
      session.completed += 1;
    }
  }
  // Iterators expire with the session, so their next pages go first (and queries whose answer could not be read).
  state.queue.unshift(...continuations);
  if (unanswered.length > 0) {
    state.inFlight = unanswered;
    settleInFlight(state, 'QuickBooks answered the message without a response for this request', routed);
  }
  return { percent: percentDone(state), routed: routed.list() };
}

export function percentDone(state: CompanyFileState): number {
  const remaining = state.queue.length + state.inFlight.length;
  // 99, not 100, while a follow-up is expected: QBWC then asks for more instead of closing the session.
  if (remaining === 0) return state.session?.lingering ? 99 : 100;
  const done = state.session?.completed ?? 0;
  return Math.min(99, Math.floor((100 * done) / (done + remaining)));
}

/** Ends the session (closeConnection, connectionError, expiry): queries go back to the queue, writes become "unknown". */
export function endSession(state: CompanyFileState, reason: string): RoutedResults[] {
  const routed = settleInFlight(state, reason);
  state.session = null;
  return routed;
}

function settleInFlight(
  state: CompanyFileState,
  reason: string,
  collector: RoutedCollector = new RoutedCollector(),
): RoutedResults[] {
  const requeue: PendingRequest[] = [];
  for (const pending of state.inFlight) {
    if (isWriteRequest(pending.request)) {
      collector.add(pending, { requestId: pending.request.requestId, kind: 'outcomeUnknown', reason });
      state.totals.resultsRouted += 1;
    } else {
      requeue.push(pending);
    }
  }
  state.inFlight = [];
  state.queue.unshift(...requeue);
  return collector.list();
}

export function closeSession(
  state: CompanyFileState,
  ticketHash: string,
): { message: string; routed: RoutedResults[] } {
  if (!isCurrent(state, ticketHash)) return { message: 'Unknown or expired ticket.', routed: [] };
  const routed = endSession(state, 'the QBWC session closed before the response arrived');
  const left = state.queue.length;
  return { message: left === 0 ? 'OK' : `OK, ${left} request(s) wait for the next run`, routed };
}
