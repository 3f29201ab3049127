import type { QbxmlRequest } from '../../qbxml/requests';
import type { CompanyFileTotals, QbxmlResult } from './messages';

/**
 * The state of one company file's request queue and QBWC session, and the limits its rules keep to. The companyFile
 * workflow holds one of these and changes it only through `sessionQueue`; keeping it free of Temporal makes every rule
 * testable alone.
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
  /**
   * How long after handing out a write a silent session is still taken to be applying it. QuickBooks answers a message
   * in seconds, and a Web Connector only starts a new run once its last one is over; a session silent this long after
   * a write died with it, and QuickBooks has applied (or dropped) the write, so a new session may take the file over
   * and read what happened. Far shorter than `sessionIdleTimeoutMs`, which would keep the file busy for 10 minutes.
   */
  writeSettleMs: number;
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
  writeSettleMs: 2 * 60 * 1000,
  maxNoOps: 3,
  maxUnreadableAnswers: 3,
};

export interface RoutedResults {
  requester: string;
  batchId: string;
  results: QbxmlResult[];
}

/**
 * The record versions the connector's own Adds and Mods produced, from their answers: every write goes through the
 * company file, so it knows them the moment QuickBooks answers, before any later read can return them. (The requester
 * also reports them, but only after its results reached it, by which time a poll may already have read the record.)
 */
export function ownWritesIn(results: readonly QbxmlResult[]): Record<string, string> {
  const writes: Record<string, string> = {};
  for (const result of results) {
    if (result.kind !== 'response' || result.response.statusCode !== 0) continue;
    if (!/(Add|Mod)Rs$/.test(result.response.type)) continue;
    for (const record of result.response.records) {
      const id = 'listId' in record ? record.listId : 'txnId' in record ? record.txnId : undefined;
      const editSequence = 'editSequence' in record ? record.editSequence : undefined;
      if (typeof id === 'string' && typeof editSequence === 'string') writes[id] = editSequence;
    }
  }
  return writes;
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

/** Results grouped per requester and batch, in the order they were routed. */
export class RoutedCollector {
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
