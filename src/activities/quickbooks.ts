import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { SyncSettings } from '../config/syncSettings';
import { buildQbxmlRequest } from '../qbxml/build';
import { OutsideWindows1252Error, textForQuickBooks, type Transliteration } from '../qbxml/charset';
import { QbxmlFieldError } from '../qbxml/errors';
import type { QbxmlRequest } from '../qbxml/requests';
import type { QueueLimits } from '../workflows/companyFile/companyFileState';
import { companyFile } from '../workflows/companyFile/workflow';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  enqueueQbxmlSignal,
  unknownBatchesQuery,
  type QbxmlBatch,
} from '../workflows/companyFile/messages';

export interface QuickBooksActivityDeps {
  client: Client;
  taskQueue: string;
  /** The configured batching; applies when this start creates the company file's workflow (it keeps them after). */
  queueLimits?: Partial<QueueLimits>;
  /** Per connection; decides what happens to text QuickBooks cannot store (default: transliterate). */
  settings?: ReadonlyMap<string, SyncSettings>;
  /**
   * How long a requester waits for QuickBooks without any answer before it fails (configuration file
   * `batching.quickbooksWaitHours`, default 72 h): long enough for a weekend with the QuickBooks PC off.
   */
  quickbooksWaitMs?: number;
  /**
   * How often a waiting requester asks whether its company file's run still knows its requests (default 1 h): a run
   * terminated or reset away never answers, and the requester should not learn it only when its wait ends.
   */
  quickbooksRunCheckMs?: number;
}

const DEFAULT_QUICKBOOKS_WAIT_MS = 72 * 60 * 60 * 1000;
const DEFAULT_QUICKBOOKS_RUN_CHECK_MS = 60 * 60 * 1000;

/** What a requester that waited too long learns about its company file. */
export interface QuickBooksWaitStatus {
  /** The company file's workflow is running (not terminated, failed or timed out). */
  running: boolean;
  lastConnectedAt?: string;
  /** Batches the running company file never accepted: its run changed (terminated or reset) and lost them. */
  lostBatches: string[];
}

/** Activities that reach QuickBooks, which means: the company file's queue, drained by the Web Connector. */
export function createQuickBooksActivities({
  client,
  taskQueue,
  queueLimits,
  settings,
  quickbooksWaitMs,
  quickbooksRunCheckMs,
}: QuickBooksActivityDeps) {
  return {
    /**
     * Signal-with-start, so a company file's workflow exists as soon as anyone needs it. Returns the text it
     * transliterated for QuickBooks, so the record's run keeps in its history what QuickBooks was sent instead.
     */
    async submitQbxmlBatch(input: {
      connection: string;
      batch: QbxmlBatch;
    }): Promise<{ transliterated: Transliteration[]; waitMs: number; checkMs: number }> {
      const policy = settings?.get(input.connection)?.quickbooksText.outsideWindows1252 ?? 'transliterate';
      const transliterated: Transliteration[] = [];
      const requests = input.batch.requests.map((request) => {
        const sendable = sendableText(request, policy);
        transliterated.push(...sendable.transliterated);
        return sendable.request;
      });
      const batch = { ...input.batch, requests };
      refuseUnbuildable(batch);
      await client.workflow.signalWithStart(companyFile, {
        workflowId: companyFileWorkflowId(input.connection),
        taskQueue,
        args: [{ connection: input.connection, ...(queueLimits ? { limits: queueLimits } : {}) }],
        signal: enqueueQbxmlSignal,
        signalArgs: [batch],
      });
      return {
        transliterated,
        waitMs: quickbooksWaitMs ?? DEFAULT_QUICKBOOKS_WAIT_MS,
        checkMs: quickbooksRunCheckMs ?? DEFAULT_QUICKBOOKS_RUN_CHECK_MS,
      };
    },

    /**
     * Asked by a waiting requester now and then, and when its wait ran out: is its company file still there and does it
     * still know the requests, and when did QBWC last come?
     */
    async quickbooksWaitStatus(input: {
      connection: string;
      requester: string;
      batchIds: string[];
    }): Promise<QuickBooksWaitStatus> {
      const handle = client.workflow.getHandle(companyFileWorkflowId(input.connection));
      let running: boolean;
      try {
        running = (await handle.describe()).status.name === 'RUNNING';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { running: false, lostBatches: input.batchIds };
        throw error;
      }
      if (!running) return { running, lostBatches: input.batchIds };
      const status = await handle.query(companyFileStatusQuery);
      const lostBatches = await handle.query(unknownBatchesQuery, {
        requester: input.requester,
        batchIds: input.batchIds,
      });
      return { running, lostBatches, ...(status.lastConnectedAt ? { lastConnectedAt: status.lastConnectedAt } : {}) };
    },
  };
}

/**
 * The request with its text made storable by QuickBooks under the connection's policy; under `fail`, text outside
 * Windows-1252 fails this requester alone (never retried: the same text would fail again), naming field and
 * characters.
 */
function sendableText(
  request: QbxmlRequest,
  policy: 'transliterate' | 'fail',
): { request: QbxmlRequest; transliterated: Transliteration[] } {
  const { type, requestId, ...rest } = request;
  // Field paths as the builder names them: `name`, `billAddress.city`, not `fields.name`.
  const body: unknown = 'fields' in rest ? rest.fields : rest;
  try {
    const { value, transliterated } = textForQuickBooks(body, policy);
    const converted = 'fields' in rest ? { ...rest, fields: value } : (value as object);
    return { request: { type, requestId, ...converted } as QbxmlRequest, transliterated };
  } catch (err) {
    if (!(err instanceof OutsideWindows1252Error)) throw err;
    throw ApplicationFailure.nonRetryable(`${type}.${err.message}`, 'OutsideWindows1252Error', {
      requestType: type,
      field: err.field,
      characters: err.characters,
    });
  }
}

/**
 * A request the builder refuses would fail at sendRequestXML, in the middle of the company file's session, and take
 * the other requests of that message with it; refused here, it fails its own requester alone, naming field and rule.
 */
function refuseUnbuildable(batch: QbxmlBatch): void {
  for (const request of batch.requests) {
    try {
      buildQbxmlRequest(request);
    } catch (err) {
      if (!(err instanceof QbxmlFieldError)) throw err;
      throw ApplicationFailure.nonRetryable(err.message, 'QbxmlFieldError', {
        requestType: err.requestType,
        field: err.field,
      });
    }
  }
}
