import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { QbxmlRequest, QbxmlResponse } from '../../qbxml/requests';

/**
 * The contract between the companyFile workflow, the QBWC gateway (Updates, one per SOAP call) and the workflows that
 * need QuickBooks (a signal in, a signal back). Only workflow-safe imports here: the gateway and workflows share it.
 */

export const companyFileWorkflowId = (connection: string): string => `qbfile/${connection}`;

/** A batch of requests from one workflow; requestIds are unique within the company file (≤ 50 chars). */
export interface QbxmlBatch {
  requester: string;
  /** The requester's run: a request of a run that is no longer the requester's running one has no one waiting. */
  requesterRunId?: string;
  batchId: string;
  requests: QbxmlRequest[];
  /**
   * The requester will probably send more once it has these answers (a read before an Add): the session then waits a
   * little for it, through QBWC's NoOp pause, instead of ending and leaving the follow-up to the next scheduled run.
   */
  followUp?: boolean;
}

export type QbxmlResult =
  /** `final` is false while an iterator has more pages to come for this request. */
  | { requestId: string; kind: 'response'; response: QbxmlResponse; final: boolean }
  /** A write was handed to QuickBooks and its answer never came back: check QuickBooks before trying again. */
  | { requestId: string; kind: 'outcomeUnknown'; reason: string }
  /** QuickBooks refused the request itself (HRESULT, e.g. 0x80040400 for a schema violation); nothing was applied. */
  | { requestId: string; kind: 'rejected'; hresult: string; message: string };

export interface QbxmlDelivery {
  batchId: string;
  results: QbxmlResult[];
  /**
   * The connector's own writes (ListID or TxnID → EditSequence) among the records these results read, as the company
   * file knows them once it has taken in the whole message they came with: a write answered after a reader took the
   * own writes (a poll takes them once) is still known to it on the page that reads the write back. Absent when none.
   */
  ownWrites?: Record<string, string>;
}

export type OpenSessionStatus = 'ok' | 'none' | 'busy';

export interface SessionCall {
  ticketHash: string;
}

/** One response element of an answer that could not be read on its own (a character XML forbids, too large). */
export interface UnreadableAnswer {
  /** The element's requestID, when its start tag could still be read. */
  requestId?: string;
  reason: string;
}

export interface ReceiveResponseInput extends SessionCall {
  /** Parsed by the gateway; absent when QuickBooks threw instead of answering (then hresult/message are set). */
  responses?: QbxmlResponse[];
  /** Response elements of the same answer that could not be read; the others are in `responses`. */
  unreadable?: UnreadableAnswer[];
  hresult?: string;
  message?: string;
}

/**
 * What the Web Connector said about the QuickBooks it runs against, on the first `sendRequestXML` of a run: the company
 * file it opened, the qbXML version it offers, and QuickBooks' own HostQuery answer (product, version, the qbXML
 * versions it supports). `qbsync check` compares the path with the configured one.
 */
export interface WebConnectorReport {
  companyFilePath: string;
  /** `qbXMLMajorVers.qbXMLMinorVers` of the call. */
  qbxmlVersion: string;
  country?: string;
  quickbooks?: { product: string; version: string; supportedQbxmlVersions: string[] };
}

/** A requester run that has ended, or been replaced (reset, a new run under the same workflow id). */
export interface GoneRequester {
  requester: string;
  runId: string;
}

export interface TakeRequestsInput extends SessionCall {
  /** Sent by the gateway when the call carries QuickBooks' host answer (the first of a run); absent otherwise. */
  report?: WebConnectorReport;
  /** Found gone by the gateway just before: their queued requests are dropped, never sent. */
  goneRequesters?: GoneRequester[];
}

/** When the Web Connector was last heard from, and what it last reported; epoch milliseconds. */
export interface WebConnectorContact {
  lastSessionAtMs?: number;
  lastCallAtMs?: number;
  report?: WebConnectorReport & { atMs: number };
}

/** `noOp`: nothing yet, but a follow-up is expected; the gateway answers `NoOp` so QBWC pauses ≈5 s and asks again. */
export type TakeRequestsResult =
  { status: 'ok'; requests: QbxmlRequest[] } | { status: 'noOp' } | { status: 'invalidTicket' };

export interface CompanyFileStatus {
  connection: string;
  queued: number;
  inFlight: number;
  sessionOpen: boolean;
  totals: CompanyFileTotals;
  /** ISO time a Web Connector last called authenticate for this file; absent when none has since the run began. */
  lastConnectedAt?: string;
  /** The run waits to hand over until the Web Connector has drained enough of its queue (`fitHandover`). */
  handingOver?: boolean;
}

export interface CompanyFileTotals {
  sessions: number;
  roundTrips: number;
  requestsSent: number;
  resultsRouted: number;
}

export const enqueueQbxmlSignal = defineSignal<[QbxmlBatch]>('enqueueQbxml');
export const qbxmlResultsSignal = defineSignal<[QbxmlDelivery]>('qbxmlResults');

export const openSessionUpdate = defineUpdate<OpenSessionStatus, [SessionCall]>('openSession');
export const takeRequestsUpdate = defineUpdate<TakeRequestsResult, [TakeRequestsInput]>('takeRequests');
/** The requester runs whose writes wait in the queue (the gateway checks they still run before writes go out). */
export const queuedWritersQuery = defineQuery<GoneRequester[]>('queuedWriters');
/** Returns QBWC's percent done: 0–99 more to come, 100 done, negative on error. */
export const receiveResponseUpdate = defineUpdate<number, [ReceiveResponseInput]>('receiveResponse');
export const connectionErrorUpdate = defineUpdate<string, [SessionCall & { hresult: string; message: string }]>(
  'connectionError',
);
export const closeSessionUpdate = defineUpdate<string, [SessionCall]>('closeSession');

/**
 * Change-detection cursors of the connection's poll cycle, per side and entity (`qb:Customer` → QuickBooks
 * TimeModified, `d365:account` → Dataverse modifiedon). They live here because this workflow is the connection's one
 * long-lived owner of state; the poll cycles that use them come and go with the schedule.
 */
export type SyncCursors = Readonly<Record<string, string>>;
/** Merged into the cursors; a cursor never moves backwards. */
export const advanceCursorsSignal = defineSignal<[SyncCursors]>('advanceCursors');
export const syncCursorsQuery = defineQuery<SyncCursors>('syncCursors');

/**
 * The QuickBooks spelling of each aligned choice (customer type, terms name → Dataverse option value), as the last
 * poll cycle found it: a Dynamics-side sync writes these names to QuickBooks, never a Dataverse label QuickBooks may
 * spell differently ("2% 10, Net 30" vs "2% 10 Net 30").
 */
export type QuickBooksChoiceNames = Readonly<Record<string, Readonly<Record<string, number>>>>;
export const rememberChoiceNamesSignal = defineSignal<[QuickBooksChoiceNames]>('rememberChoiceNames');
export const choiceNamesQuery = defineQuery<QuickBooksChoiceNames>('choiceNames');

/**
 * The connector's own QuickBooks writes (ListID or TxnID → the EditSequence QuickBooks gave the written version): the
 * next poll reads those records as modified, and they are echoes, not changes. A poll forgets the versions it has read
 * (cycles recorded before sent the ids alone).
 */
export type OwnWrites = Readonly<Record<string, string>>;
export const rememberOwnWritesSignal = defineSignal<[OwnWrites]>('rememberOwnWrites');
export const forgetOwnWritesSignal = defineSignal<[OwnWrites | string[]]>('forgetOwnWrites');
export const ownWritesQuery = defineQuery<OwnWrites>('ownWrites');

export const lastErrorQuery = defineQuery<string, [SessionCall]>('lastError');
/** The batches of a requester this run never accepted (lost with a run that was terminated or reset away). */
export const unknownBatchesQuery = defineQuery<string[], [{ requester: string; batchIds: string[] }]>('unknownBatches');
export const companyFileStatusQuery = defineQuery<CompanyFileStatus>('status');
/** Answered by runs of the current design; a run still on the legacy code has no handler for it. */
export const webConnectorContactQuery = defineQuery<WebConnectorContact>('webConnectorContact');
