import { condition, proxyActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { QbxmlRequest, QbxmlResponse } from '../../qbxml/requests';
import type { createQuickBooksActivities } from '../../activities/quickbooks';
import { qbxmlResultsSignal, type QbxmlResult } from './messages';

/**
 * What a workflow uses to talk to QuickBooks: hand requests to the company file's queue and wait, durably and for as
 * long as the Web Connector takes to connect, for their answers.
 */

const { submitQbxmlBatch } = proxyActivities<ReturnType<typeof createQuickBooksActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

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
export function newBatchId(): string {
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
  const received: QbxmlResult[] = [];
  box.batches.set(batchId, received);
  await submitQbxmlBatch({
    connection,
    batch: {
      requester: workflowInfo().workflowId,
      batchId,
      requests: batch,
      ...(options.followUp === false ? {} : { followUp: true }),
    },
  });

  const outcomes = new Map<string, QbxmlOutcome>();
  const mergedResponses = new Map<string, QbxmlResponse>();
  const collect = options.collectRecords ?? true;
  let cursor = 0;
  while (outcomes.size < batch.length) {
    await condition(() => received.length > cursor);
    while (cursor < received.length) {
      const result = received[cursor++]!;
      if (result.kind !== 'response') {
        outcomes.set(result.requestId, result);
        continue;
      }
      if (options.onPage) await options.onPage(result.requestId, result.response);
      const merged = mergedResponses.get(result.requestId);
      const next: QbxmlResponse = merged
        ? { ...result.response, records: collect ? [...merged.records, ...result.response.records] : [] }
        : { ...result.response, records: collect ? result.response.records : [] };
      if (result.final) {
        mergedResponses.delete(result.requestId);
        outcomes.set(result.requestId, { requestId: result.requestId, kind: 'response', response: next });
      } else {
        mergedResponses.set(result.requestId, next);
      }
    }
  }
  box.batches.delete(batchId);
  return batch.map((r) => outcomes.get(r.requestId)!);
}
