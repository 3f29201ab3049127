import { continueIterator, isWriteRequest, supportsIterator, type QbxmlRequest } from '../../qbxml/requests';
import type {
  CompanyFileTotals,
  OpenSessionStatus,
  QbxmlBatch,
  QbxmlResult,
  ReceiveResponseInput,
  TakeRequestsResult,
} from './messages';

/**
 * The queue of qbXML requests of one company file and the QBWC session draining it, as a pure state machine.
 * The companyFile workflow holds one of these; keeping it free of Temporal makes every rule testable alone.
 */

export interface PendingRequest {
  request: QbxmlRequest;
  requester: string;
  batchId: string;
  /** Sent alone, after a message holding it was refused as a whole. */
  isolate?: boolean;
  followUp?: boolean;
  /** Answers QuickBooks gave to this request that could not be read. */
  unreadableAnswers?: number;
  requesterRunId?: string;
}

export interface Session {
  ticketHash: string;
  openedAtMs: number;
  lastSeenAtMs: number;
  completed: number;
  lastError: string;
  /** A follow-up is expected (answers went to a requester that said so): the session waits instead of ending. */
  lingering?: boolean;
  /** NoOp pauses since requests last went out. */
  noOps?: number;
}

export interface CompanyFileState {
  connection: string;
  queue: PendingRequest[];
  inFlight: PendingRequest[];
  session: Session | null;
  /** Kept after the session ends so QBWC's getLastError after closeConnection still gets an answer. */
  lastError: string;
  totals: CompanyFileTotals;
  /**
   * The batches accepted, oldest first (`batchKey`): a batch signalled again — a requester's enqueue retried after its
   * signal had landed — is accepted once, whether it is still queued, in flight or answered. Carried over
   * continue-as-new with the rest of the state. Absent in runs of the legacy design, which accepted every signal.
   */
  acceptedBatches?: string[];
  /** When a Web Connector last called authenticate for this file, work or not (a requester's wait names it). */
  lastConnectedAtMs?: number;
}

export interface QueueLimits {
  maxRequestsPerRoundTrip: number;
  /** Upper bound of records a round trip may bring back, so one Update stays far below Temporal's 2 MB payload limit. */
  maxRecordsPerRoundTrip: number;
  sessionIdleTimeoutMs: number;
  /** NoOp pauses (≈5 s each with QBWC) a session spends waiting for an expected follow-up before it ends. */
  maxNoOps: number;
  /**
   * Unreadable answers a query gets before it goes back to its requester as rejected. The same record gives the same
   * unreadable answer every time; asking again only helps when the message as a whole was too large.
   */
  maxUnreadableAnswers: number;
}

export const defaultQueueLimits: QueueLimits = {
  maxRequestsPerRoundTrip: 100,
  maxRecordsPerRoundTrip: 500,
  sessionIdleTimeoutMs: 10 * 60 * 1000,
  maxNoOps: 3,
  maxUnreadableAnswers: 3,
};

/** Records a query may return when it does not say (QuickBooks has no default cap; we always send MaxReturned). */
const DEFAULT_QUERY_RECORDS = 100;
const SCHEMA_ERROR_HRESULT = '0x80040400';

/**
 * `hresult` of a message whose answer as a whole could not be read: over the gateway's body limit, or not qbXML at all.
 * QuickBooks carried the message out; only its answer is lost.
 */
export const UNREADABLE_ANSWER_HRESULT = 'unreadable-response';

/** Whether an answer holds something the gateway could not read (the caller then decides how to treat it). */
export function hasUnreadableAnswer(input: ReceiveResponseInput): boolean {
  return input.hresult === UNREADABLE_ANSWER_HRESULT || (input.unreadable?.length ?? 0) > 0;
}

export interface RoutedResults {
  requester: string;
  batchId: string;
  results: QbxmlResult[];
}

export function newCompanyFileState(connection: string): CompanyFileState {
  return {
    connection,
    queue: [],
    inFlight: [],
    session: null,
    lastError: '',
    totals: { sessions: 0, roundTrips: 0, requestsSent: 0, resultsRouted: 0 },
  };
}

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

/** Queues a batch's requests; false when the batch was accepted before (nothing is queued again). */
export function enqueue(state: CompanyFileState, batch: QbxmlBatch): boolean {
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
    });
  }
  return true;
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

function expectedRecords(request: QbxmlRequest): number {
  if (isWriteRequest(request)) return 1;
  if ('maxReturned' in request && typeof request.maxReturned === 'number') return request.maxReturned;
  return DEFAULT_QUERY_RECORDS;
}

export function takeRequests(
  state: CompanyFileState,
  ticketHash: string,
  nowMs: number,
  limits: QueueLimits,
): { result: TakeRequestsResult; routed: RoutedResults[] } {
  if (!isCurrent(state, ticketHash)) return { result: { status: 'invalidTicket' }, routed: [] };
  state.session.lastSeenAtMs = nowMs;
  // Whatever was handed out before and never answered is now in doubt: settle it before handing out more.
  const routed = settleInFlight(state, 'no response was received for the previous message');
  const taken: PendingRequest[] = [];
  let records = 0;
  while (state.queue.length > 0 && taken.length < limits.maxRequestsPerRoundTrip) {
    const next = state.queue[0]!;
    if (next.isolate && taken.length > 0) break;
    const cost = expectedRecords(next.request);
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
    state.session.lingering = false;
  } else if (state.session.lingering && (state.session.noOps ?? 0) < limits.maxNoOps) {
    state.session.noOps = (state.session.noOps ?? 0) + 1;
    state.session.lastError = 'NoOp';
    state.lastError = 'NoOp';
    return { result: { status: 'noOp' }, routed };
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
  unreadable?: Pick<QueueLimits, 'maxUnreadableAnswers'>,
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

/**
 * One request whose answer could not be read. QuickBooks carried it out, so a write's outcome is unknown (its requester
 * looks before writing again). A query is to be asked again (returned, for the head of the queue), alone, until it has had `maxUnreadableAnswers` unreadable
 * answers of its own; then it goes back to its requester as rejected with the reason, and the queue moves on. An
 * iterator's next page is never asked again: QuickBooks has moved past it, and a second Continue would skip it.
 * `alone` is false when the message held several requests and nothing tells which answer was the culprit: then the
 * query is isolated without being counted.
 */
function settleUnreadable(
  state: CompanyFileState,
  pending: PendingRequest,
  reason: string,
  how: { alone: boolean; limits: Pick<QueueLimits, 'maxUnreadableAnswers'>; routed: RoutedCollector },
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
  return [{ ...pending, isolate: true, unreadableAnswers: answers }];
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

class RoutedCollector {
  private readonly groups = new Map<string, RoutedResults>();

  add(pending: PendingRequest, result: QbxmlResult): void {
    const key = `${pending.requester}\u0000${pending.batchId}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { requester: pending.requester, batchId: pending.batchId, results: [] };
      this.groups.set(key, group);
    }
    group.results.push(result);
  }

  list(): RoutedResults[] {
    return [...this.groups.values()];
  }
}
