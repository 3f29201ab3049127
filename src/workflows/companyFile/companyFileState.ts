import { recordId } from '../../mapping/quickbooksChanges';
import { transliterateToWindows1252 } from '../../qbxml/charset';
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
  /** When its batch was accepted (workflow time); absent for batches accepted before arrivals were timed. */
  queuedAtMs?: number;
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
  /** NoOp pauses taken to gather requests still arriving, since requests last went out (`gatherArrivals`). */
  gatherHolds?: number;
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
  /**
   * The list records' Mods handed to QuickBooks whose outcome is not known yet, by ListID (see `modsInFlightSent`).
   * Carried over continue-as-new with the rest of the state; absent in runs from before it was kept.
   */
  modsInFlight?: Record<string, ModInFlight>;
}

/** A Mod handed out: its request (the answer to which settles it) and the fields it sets. */
export interface ModInFlight {
  requestId: string;
  fields: Readonly<Record<string, unknown>>;
}

/** Mods in flight kept at most: a marker no read ever settles (its requester gone) must not grow the state for ever. */
export const MAX_MODS_IN_FLIGHT = 500;

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
  /**
   * A round trip waits (a NoOp pause, ≈5 s with QBWC) for more requests while they are still arriving: some arrived
   * within the last `gatherQuietMs`, from more than one requester, and the queue is not yet a full message. At most
   * `maxGatherHolds` such pauses before requests go out; 0 sends whatever is queued at once.
   */
  maxGatherHolds: number;
  gatherQuietMs: number;
  /**
   * Largest input a run hands to its next one at continue-as-new (`fitHandover`): under Temporal's 2 MB payload limit
   * with room for the codec's envelope. A run whose queue alone is larger serves on until enough of it has gone out.
   */
  handoverMaxBytes: number;
  /** History, counted from the jobs themselves, at which a run hands over to its next (continue-as-new). */
  maxHistoryBytes: number;
}

export const defaultQueueLimits: QueueLimits = {
  maxRequestsPerRoundTrip: 100,
  maxRecordsPerRoundTrip: 500,
  sessionIdleTimeoutMs: 10 * 60 * 1000,
  writeSettleMs: 2 * 60 * 1000,
  maxNoOps: 3,
  maxUnreadableAnswers: 3,
  // Two pauses of QBWC's 5 s: long enough for a burst of requester runs (a poll cycle's new accounts, each sending its
  // look-up, then its Add) to fill a message, short next to QBWC's minutes between runs. A quiet window under the
  // pause means a pause in which nothing new arrived ends the gathering.
  maxGatherHolds: 2,
  gatherQuietMs: 2_000,
  handoverMaxBytes: 1536 * 1024,
  maxHistoryBytes: 8 * 1024 * 1024,
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

/**
 * The ids (ListID or TxnID) of the records the reads among `results` bring back, for the own writes a delivery carries
 * (`QbxmlDelivery.ownWrites`); a write's own answer is its requester's to know and is left out.
 */
export function recordsRead(results: readonly QbxmlResult[]): string[] {
  const ids: string[] = [];
  for (const result of results) {
    if (result.kind !== 'response' || /(Add|Mod)Rs$/.test(result.response.type)) continue;
    for (const record of result.response.records) {
      const id = recordId(record);
      if (id !== '') ids.push(id);
    }
  }
  return ids;
}

/**
 * Marks the list records' Mods just handed out (`state.inFlight`) as in flight, before QuickBooks can apply them. A
 * session cut after QuickBooks applied one loses its answer, so `ownWritesIn` never learns the version it made; a poll
 * reading that version before the Mod's requester has read it back would take the connector's own write for a
 * person's edit (issue 11, after 89847cd). The marker lets `ownWritesInReads` know it instead.
 */
export function modsInFlightSent(state: CompanyFileState): void {
  for (const pending of state.inFlight) {
    const { request } = pending;
    if (!request.type.endsWith('Mod') || !('fields' in request)) continue;
    const fields = request.fields as unknown as Readonly<Record<string, unknown>>;
    if (typeof fields.listId !== 'string') continue;
    const marks = (state.modsInFlight ??= {});
    // Newest last, so the oldest is the one dropped at the limit.
    delete marks[fields.listId];
    marks[fields.listId] = { requestId: request.requestId, fields };
    const ids = Object.keys(marks);
    for (const id of ids.slice(0, Math.max(0, ids.length - MAX_MODS_IN_FLIGHT))) delete marks[id];
  }
}

/**
 * Settles the Mods in flight with a message's answers and returns the versions found to be the connector's own. The
 * Mod's own answer settles its marker (a success is `ownWritesIn`'s to know, a refusal changed nothing); an answer lost
 * keeps it. The first version of the record any read brings back after that settles it too: a version holding every
 * field the Mod set is the Mod's (QuickBooks applied it, the answer was lost); any other is not (the Mod never arrived,
 * or a person changed one of its fields since), so the marker never hides a person's edit of those fields.
 */
export function ownWritesInReads(state: CompanyFileState, results: readonly QbxmlResult[]): Record<string, string> {
  const writes: Record<string, string> = {};
  const marks = state.modsInFlight;
  if (!marks || Object.keys(marks).length === 0) return writes;
  for (const result of results) {
    if (result.kind !== 'response') continue; // an answer lost or unreadable: the Mod may have been applied
    for (const [id, mark] of Object.entries(marks)) if (mark.requestId === result.requestId) delete marks[id];
    if (result.response.statusCode !== 0) continue;
    if (/(Add|Mod)Rs$/.test(result.response.type)) continue;
    for (const record of result.response.records) {
      const id = 'listId' in record ? record.listId : undefined;
      const mark = typeof id === 'string' ? marks[id] : undefined;
      if (!mark || typeof id !== 'string') continue;
      delete marks[id];
      const editSequence = 'editSequence' in record ? record.editSequence : undefined;
      if (typeof editSequence === 'string' && holdsModFields(mark.fields, record)) writes[id] = editSequence;
    }
  }
  return writes;
}

/**
 * Whether `read` holds every value a Mod's `fields` set: each field by name (qbXML's Ret elements share the Mod's
 * names), a reference or an address by the parts the Mod gave, an empty string as a field left empty, text as sent or
 * as QuickBooks romanises it. Anything QuickBooks holds in another form (an amount written otherwise) does not match,
 * which only leaves the version to be merged as before.
 */
export function holdsModFields(fields: Readonly<Record<string, unknown>>, read: unknown): boolean {
  return Object.entries(fields).every(
    ([key, value]) => key === 'listId' || key === 'editSequence' || holdsValue(value, fieldOf(read, key)),
  );
}

function fieldOf(read: unknown, key: string): unknown {
  return typeof read === 'object' && read !== null ? (read as Record<string, unknown>)[key] : undefined;
}

function holdsValue(sent: unknown, read: unknown): boolean {
  if (sent === undefined) return true;
  if (typeof sent === 'object' && sent !== null && !Array.isArray(sent)) {
    return Object.entries(sent).every(([key, value]) => holdsValue(value, fieldOf(read, key)));
  }
  if (sent === '') return read === undefined || read === '';
  if (read === undefined || read === null) return false;
  // QuickBooks stores text it cannot hold romanised (as `transliterateToWindows1252` writes it).
  return String(sent) === String(read) || transliterateToWindows1252(String(sent)) === String(read);
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
