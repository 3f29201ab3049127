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

/**
 * A result as the inbox keeps it: with the connector's own writes among the records it reads, from the delivery it came
 * in (`QbxmlDelivery.ownWrites`), so they stay with their page however long it waits to be read.
 */
export type ReceivedQbxmlResult = QbxmlResult & { ownWrites?: Record<string, string> };

interface Inbox {
  batches: Map<string, ReceivedQbxmlResult[]>;
}

/** `result` with the own writes of `delivered` that concern its records (none: the result as it came). */
function withOwnWrites(
  result: QbxmlResult,
  delivered: Readonly<Record<string, string>> | undefined,
): ReceivedQbxmlResult {
  if (!delivered || result.kind !== 'response') return result;
  const own: Record<string, string> = {};
  for (const record of result.response.records) {
    const id = 'listId' in record ? record.listId : 'txnId' in record ? record.txnId : undefined;
    if (typeof id === 'string' && delivered[id] !== undefined) own[id] = delivered[id];
  }
  return Object.keys(own).length > 0 ? { ...result, ownWrites: own } : result;
}

let inbox: Inbox | undefined;

/**
 * `expected`: batches a run continued as new still waits for. They are in the inbox before the handler is set, so the
 * pages signalled while the run changed (buffered until then) are kept, not dropped as unknown.
 */
function openInbox(expected: readonly string[] = []): Inbox {
  if (!inbox) {
    const created: Inbox = { batches: new Map(expected.map((id) => [id, []])) };
    setHandler(qbxmlResultsSignal, (delivery) => {
      const list = created.batches.get(delivery.batchId);
      // Results for a batch this run no longer waits for (e.g. after a reset) are dropped.
      if (list) list.push(...delivery.results.map((result) => withOwnWrites(result, delivery.ownWrites)));
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
  /**
   * Called with each page of an iterator query as it arrives, so large reads need not be held whole, and with the
   * connector's own writes among the page's records as the company file knew them when it delivered the page.
   */
  onPage?: (
    requestId: string,
    response: QbxmlResponse,
    ownWrites: Readonly<Record<string, string>>,
  ) => void | Promise<void>;
  /** Keep records of iterator pages in the merged response (default true). */
  collectRecords?: boolean;
  /**
   * Asked after each page: true ends the wait early with what is still owed (`PendingQbxml`), for a requester that
   * continues as new before its history grows too long; `readQbxml` only.
   */
  pauseWhen?: () => boolean;
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
  received: ReceivedQbxmlResult[];
  /** Request ids sent in this batch whose last answer has not come yet: the batch is still owed by the company file. */
  owed: Set<string>;
  cursor: number;
  /** Request id as sent in this batch → the caller's request id. */
  origin: Map<string, string>;
}

/**
 * A read paused while pages were still owed, to go on in the requester's next run: the company file delivers to the
 * workflow id, so the new run receives the rest. Holds no record already handed out, so its size does not grow with the
 * read (a restart after the pause may hand out again records handed out before it).
 */
export interface PendingQbxml {
  requests: QbxmlRequest[];
  /** `unread`: pages received and not yet handed out, each with its own writes (absent in runs recorded before). */
  streams: { batchId: string; owed: string[]; origin: [string, string][]; unread: ReceivedQbxmlResult[] }[];
  assemblies: { requestId: string; request: QbxmlRequest; pages: number; restarts: number }[];
  outcomes: QbxmlOutcome[];
  waitMs?: number;
  checkMs?: number;
}

/**
 * Sends `build(batchId)`'s requests to company file `connection` and returns one outcome per request, in order.
 * `build` receives the batch id so callers can derive their request ids from it.
 */
export async function runQbxml(
  connection: string,
  requests: (batchId: string) => QbxmlRequest[],
  options: Omit<RunQbxmlOptions, 'pauseWhen'> = {},
): Promise<QbxmlOutcome[]> {
  const read = await readQbxml(connection, requests, options);
  return 'outcomes' in read ? read.outcomes : [];
}

/**
 * `runQbxml` that may stop early (`pauseWhen`) and go on from a `PendingQbxml` in another run: `requests` is then the
 * paused read. Outcomes come in the order of the requests sent. A paused read keeps receiving pages until `pending()`
 * is taken, right before the caller continues as new.
 */
export async function readQbxml(
  connection: string,
  requests: ((batchId: string) => QbxmlRequest[]) | PendingQbxml,
  options: RunQbxmlOptions = {},
): Promise<{ outcomes: QbxmlOutcome[] } | { pending: () => PendingQbxml }> {
  const resumed = typeof requests === 'function' ? undefined : requests;
  const box = openInbox(resumed?.streams.map((s) => s.batchId));
  const batchId = newBatchId();
  const batch = typeof requests === 'function' ? requests(batchId) : requests.requests;
  if (batch.length === 0) return { outcomes: [] };
  const streams = new Map<string, Stream>();
  let waitMs: number | undefined = resumed?.waitMs;
  let checkMs: number | undefined = resumed?.checkMs;
  const submit = async (id: string, sent: QbxmlRequest[], origin: Map<string, string>): Promise<void> => {
    const received: ReceivedQbxmlResult[] = [];
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
  const outcomes = new Map<string, QbxmlOutcome>();
  const assemblies = new Map<string, Assembly>(
    batch.map((r) => [r.requestId, { request: r, pages: 0, restarts: 0, delivered: new Map(), records: [] }]),
  );
  if (resumed) {
    for (const s of resumed.streams) {
      const received = box.batches.get(s.batchId) ?? [];
      received.unshift(...s.unread);
      box.batches.set(s.batchId, received);
      streams.set(s.batchId, { received, owed: new Set(s.owed), cursor: 0, origin: new Map(s.origin) });
    }
    for (const a of resumed.assemblies) {
      assemblies.set(a.requestId, { ...a, delivered: new Map(), records: [] });
    }
    for (const o of resumed.outcomes) outcomes.set(o.requestId, o);
  } else {
    await submit(batchId, batch, new Map(batch.map((r) => [r.requestId, r.requestId])));
  }
  let paused = false;
  const collect = options.collectRecords ?? true;
  const unread = (): boolean => [...streams.values()].some((s) => s.received.length > s.cursor);
  /** The batches the company file still owes an answer: only those can be lost with its run. */
  const owedBatches = (): string[] => [...streams].filter(([, s]) => s.owed.size > 0).map(([id]) => id);
  /** When the last answer came (or the wait began): the bound counts time without any answer. */
  let answeredAt = Date.now();
  while (outcomes.size < batch.length && !paused) {
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
        if (options.onPage) {
          await options.onPage(requestId, { ...response, requestId, records: fresh }, result.ownWrites ?? {});
        }
        if (result.final) {
          outcomes.set(requestId, {
            requestId,
            kind: 'response',
            response: { ...response, requestId, records: collect ? assembly.records : [] },
          });
        }
      }
    }
    // Only with every page received handled: the pages already in this history are not carried into the next run.
    if (options.pauseWhen && outcomes.size < batch.length && options.pauseWhen()) paused = true;
  }
  if (outcomes.size < batch.length) {
    // Read when the caller continues as new, not now: pages signalled while it finishes what it holds are carried too.
    const pending = (): PendingQbxml => ({
      requests: batch,
      streams: [...streams]
        .filter(([, s]) => s.owed.size > 0 || s.received.length > s.cursor)
        .map(([id, s]) => ({
          batchId: id,
          owed: [...s.owed],
          origin: [...s.origin],
          unread: s.received.slice(s.cursor),
        })),
      assemblies: [...assemblies].map(([requestId, a]) => ({
        requestId,
        request: a.request,
        pages: a.pages,
        restarts: a.restarts,
      })),
      outcomes: [...outcomes.values()],
      ...(waitMs === undefined ? {} : { waitMs }),
      ...(checkMs === undefined ? {} : { checkMs }),
    });
    return { pending };
  }
  for (const id of streams.keys()) box.batches.delete(id);
  return { outcomes: batch.map((r) => outcomes.get(r.requestId)!) };
}
