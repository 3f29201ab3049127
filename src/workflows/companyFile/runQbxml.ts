import {
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { supportsIterator, type QbRecord, type QbxmlRequest, type QbxmlResponse } from '../../qbxml/requests';
import type { createQuickBooksActivities } from '../../activities/quickbooks';
import { qbxmlResultsSignal, type QbxmlResult } from './messages';

/**
 * What a workflow uses to talk to QuickBooks: hand requests to the company file's queue and wait, durably and for as
 * long as the Web Connector takes to connect, for their answers.
 */

const { submitQbxmlBatch, quickbooksWaitStatus } = proxyActivities<ReturnType<typeof createQuickBooksActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** The wait for the company file's answers ends after the configured time without any (issue 11 item 12). */
const BOUNDED_WAIT_PATCH = 'qbxml-wait-bounded';

function duration(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 1) return `${Number(hours.toFixed(1))} h`;
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * The requester checks its company file's run this often while it waits (issue 11 item 12): a run terminated or reset
 * away never answers, and waiting out the whole bound (days) before saying so held the record's fixed workflow id.
 */
const RUN_CHECK_PATCH = 'qbxml-wait-checks-company-file-run';

/** The company file cannot answer these requests any more: its run is gone, or a new run never received them. */
function runChanged(
  connection: string,
  waitedMs: number,
  status: Awaited<ReturnType<typeof quickbooksWaitStatus>>,
): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `QuickBooks has not answered in ${duration(waitedMs)}: the company file's workflow qbfile/${connection} ` +
      `${status.running ? 'was terminated or reset since, and its new run never received' : 'is not running and will not answer'} ` +
      `these requests`,
    'CompanyFileRunChanged',
  );
}

/** Fails the requester when its company file's run can no longer answer; otherwise it goes on waiting. */
async function checkRun(connection: string, waitedMs: number, batchIds: string[]): Promise<void> {
  if (batchIds.length === 0) return;
  const status = await quickbooksWaitStatus({ connection, requester: workflowInfo().workflowId, batchIds });
  if (!status.running || status.lostBatches.length > 0) throw runChanged(connection, waitedMs, status);
}

/** Fails the requester with what it waited for and why no answer may ever come. */
async function waitExceeded(connection: string, waitedMs: number, batchIds: string[]): Promise<never> {
  const status = await quickbooksWaitStatus({ connection, requester: workflowInfo().workflowId, batchIds });
  if (!status.running || status.lostBatches.length > 0) throw runChanged(connection, waitedMs, status);
  throw ApplicationFailure.nonRetryable(
    `QuickBooks has not answered in ${duration(waitedMs)}: the Web Connector of ${connection} ` +
      (status.lastConnectedAt
        ? `has not connected since ${status.lastConnectedAt}`
        : 'has not connected since the company file started'),
    'QuickBooksWaitExceeded',
  );
}

export type QbxmlOutcome =
  /** All pages of a query merged into one response. */
  | { requestId: string; kind: 'response'; response: QbxmlResponse }
  | { requestId: string; kind: 'outcomeUnknown'; reason: string }
  | { requestId: string; kind: 'rejected'; hresult: string; message: string };

interface Inbox {
  batches: Map<string, QbxmlResult[]>;
}

let inbox: Inbox | undefined;

function openInbox(): Inbox {
  if (!inbox) {
    const created: Inbox = { batches: new Map() };
    setHandler(qbxmlResultsSignal, (delivery) => {
      const list = created.batches.get(delivery.batchId);
      // Results for a batch this run no longer waits for (e.g. after a reset) are dropped.
      if (list) list.push(...delivery.results);
    });
    inbox = created;
  }
  return inbox;
}

/** Request ids are unique per company file and at most 50 characters (qbXML status 1060 otherwise). */
function newBatchId(): string {
  return uuid4().replace(/-/g, '').slice(0, 24);
}

export interface RunQbxmlOptions {
  /** Called with each page of an iterator query as it arrives, so large reads need not be held whole. */
  onPage?: (requestId: string, response: QbxmlResponse) => void | Promise<void>;
  /** Keep records of iterator pages in the merged response (default true). */
  collectRecords?: boolean;
  /**
   * More requests will follow once these are answered (default true): the QBWC session waits briefly for them rather
   * than leaving them to the next run. A read whose answers end the caller's QuickBooks work says false.
   */
  followUp?: boolean;
}

/**
 * A read whose iterator QuickBooks forgot (3391: the session ended between pages, or the iterator sat idle too long)
 * is started again this many times before its 3391 goes to the caller.
 */
const MAX_ITERATOR_RESTARTS = 10;
const INVALID_ITERATOR = 3391;

/** What identifies a record across pages: a restarted read hands out records the caller already has. */
function recordKey(record: QbRecord): string | undefined {
  if ('listId' in record && typeof record.listId === 'string') return `L${record.listId}`;
  if ('txnId' in record && typeof record.txnId === 'string') return `T${record.txnId}`;
  return undefined;
}

/** One request's answer as it is assembled from pages, possibly across restarts of its iterator. */
interface Assembly {
  request: QbxmlRequest;
  pages: number;
  restarts: number;
  /** Keys of records already handed out, with their position in `records` when records are collected. */
  delivered: Map<string, number>;
  records: QbRecord[];
}

interface Stream {
  received: QbxmlResult[];
  /** Request ids sent in this batch whose last answer has not come yet: the batch is still owed by the company file. */
  owed: Set<string>;
  cursor: number;
  /** Request id as sent in this batch → the caller's request id. */
  origin: Map<string, string>;
}

/**
 * Sends `build(batchId)`'s requests to company file `connection` and returns one outcome per request, in order.
 * `build` receives the batch id so callers can derive their request ids from it.
 */
export async function runQbxml(
  connection: string,
  requests: (batchId: string) => QbxmlRequest[],
  options: RunQbxmlOptions = {},
): Promise<QbxmlOutcome[]> {
  const box = openInbox();
  const batchId = newBatchId();
  const batch = requests(batchId);
  if (batch.length === 0) return [];
  const streams = new Map<string, Stream>();
  let waitMs: number | undefined;
  let checkMs: number | undefined;
  const submit = async (id: string, sent: QbxmlRequest[], origin: Map<string, string>): Promise<void> => {
    const received: QbxmlResult[] = [];
    box.batches.set(id, received);
    streams.set(id, { received, owed: new Set(sent.map((r) => r.requestId)), cursor: 0, origin });
    const submitted = await submitQbxmlBatch({
      connection,
      batch: {
        requester: workflowInfo().workflowId,
        requesterRunId: workflowInfo().runId,
        batchId: id,
        requests: sent,
        ...(options.followUp === false ? {} : { followUp: true }),
      },
    });
    // Histories recorded before waits were bounded hold no wait in the activity's result: they keep waiting for ever.
    if (waitMs === undefined && typeof submitted?.waitMs === 'number' && patched(BOUNDED_WAIT_PATCH)) {
      waitMs = submitted.waitMs;
      // Histories recorded before the checks hold no check interval in the result: one wait of the whole bound.
      if (typeof submitted.checkMs === 'number' && submitted.checkMs > 0 && patched(RUN_CHECK_PATCH)) {
        checkMs = submitted.checkMs;
      }
    }
  };
  await submit(batchId, batch, new Map(batch.map((r) => [r.requestId, r.requestId])));

  const outcomes = new Map<string, QbxmlOutcome>();
  const assemblies = new Map<string, Assembly>(
    batch.map((r) => [r.requestId, { request: r, pages: 0, restarts: 0, delivered: new Map(), records: [] }]),
  );
  const collect = options.collectRecords ?? true;
  const unread = (): boolean => [...streams.values()].some((s) => s.received.length > s.cursor);
  /** The batches the company file still owes an answer: only those can be lost with its run. */
  const owedBatches = (): string[] => [...streams].filter(([, s]) => s.owed.size > 0).map(([id]) => id);
  /** When the last answer came (or the wait began): the bound counts time without any answer. */
  let answeredAt = Date.now();
  while (outcomes.size < batch.length) {
    if (waitMs === undefined) await condition(unread);
    else if (checkMs === undefined) {
      if (!(await condition(unread, waitMs))) await waitExceeded(connection, waitMs, [...streams.keys()]);
    } else {
      const left = answeredAt + waitMs - Date.now();
      if (left <= 0) await waitExceeded(connection, waitMs, owedBatches());
      if (!(await condition(unread, Math.min(checkMs, left)))) {
        const waited = Date.now() - answeredAt;
        if (waited >= waitMs) await waitExceeded(connection, waitMs, owedBatches());
        await checkRun(connection, waited, owedBatches());
        continue;
      }
      answeredAt = Date.now();
    }
    for (const stream of [...streams.values()]) {
      while (stream.cursor < stream.received.length) {
        const result = stream.received[stream.cursor++]!;
        if (result.kind !== 'response' || result.final) stream.owed.delete(result.requestId);
        const requestId = stream.origin.get(result.requestId) ?? result.requestId;
        if (result.kind !== 'response') {
          outcomes.set(requestId, { ...result, requestId });
          continue;
        }
        const assembly = assemblies.get(requestId)!;
        const response = result.response;
        if (
          response.statusCode === INVALID_ITERATOR &&
          assembly.pages > 0 &&
          assembly.restarts < MAX_ITERATOR_RESTARTS &&
          supportsIterator(assembly.request) &&
          patched('qbxml-iterator-restart')
        ) {
          // The iterator died with its session or idled out: read again from the start; the records the caller
          // already has are not handed out twice, so the read resumes, in effect, where it stood.
          stream.owed.delete(result.requestId);
          assembly.restarts += 1;
          const restartId = newBatchId();
          const { iteratorId: _dropped, ...original } = assembly.request as QbxmlRequest & { iteratorId?: string };
          const restarted = { ...original, requestId: `${restartId}-r`, iterator: 'Start' } as QbxmlRequest;
          await submit(restartId, [restarted], new Map([[restarted.requestId, requestId]]));
          continue;
        }
        assembly.pages += 1;
        const fresh: QbRecord[] = [];
        for (const record of response.records) {
          const key = recordKey(record);
          const at = key === undefined ? undefined : assembly.delivered.get(key);
          if (at !== undefined) {
            // Seen before a restart: keep the newer version, but the caller has had this record already.
            if (collect) assembly.records[at] = record;
            continue;
          }
          fresh.push(record);
          if (collect) assembly.records.push(record);
          if (key !== undefined) assembly.delivered.set(key, collect ? assembly.records.length - 1 : -1);
        }
        if (options.onPage) await options.onPage(requestId, { ...response, requestId, records: fresh });
        if (result.final) {
          outcomes.set(requestId, {
            requestId,
            kind: 'response',
            response: { ...response, requestId, records: collect ? assembly.records : [] },
          });
        }
      }
    }
  }
  for (const id of streams.keys()) box.batches.delete(id);
  return batch.map((r) => outcomes.get(r.requestId)!);
}
