import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { SyncSettings } from '../config/syncSettings';
import { buildQbxmlRequest } from '../qbxml/build';
import { OutsideWindows1252Error, textForQuickBooks, type Transliteration } from '../qbxml/charset';
import { QbxmlFieldError } from '../qbxml/errors';
import type { QbxmlRequest } from '../qbxml/requests';
import type { QueueLimits } from '../workflows/companyFile/sessionQueue';
import { companyFile } from '../workflows/companyFile/workflow';
import { companyFileWorkflowId, enqueueQbxmlSignal, type QbxmlBatch } from '../workflows/companyFile/messages';

export interface QuickBooksActivityDeps {
  client: Client;
  taskQueue: string;
  /** The configured batching; applies when this start creates the company file's workflow (it keeps them after). */
  queueLimits?: Partial<QueueLimits>;
  /** Per connection; decides what happens to text QuickBooks cannot store (default: transliterate). */
  settings?: ReadonlyMap<string, SyncSettings>;
}

/** Activities that reach QuickBooks, which means: the company file's queue, drained by the Web Connector. */
export function createQuickBooksActivities({ client, taskQueue, queueLimits, settings }: QuickBooksActivityDeps) {
  return {
    /**
     * Signal-with-start, so a company file's workflow exists as soon as anyone needs it. Returns the text it
     * transliterated for QuickBooks, so the record's run keeps in its history what QuickBooks was sent instead.
     */
    async submitQbxmlBatch(input: {
      connection: string;
      batch: QbxmlBatch;
    }): Promise<{ transliterated: Transliteration[] }> {
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
      return { transliterated };
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
