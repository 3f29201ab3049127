import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { buildQbxmlRequest } from '../qbxml/build';
import { QbxmlFieldError } from '../qbxml/errors';
import type { QueueLimits } from '../workflows/companyFile/sessionQueue';
import { companyFile } from '../workflows/companyFile/workflow';
import { companyFileWorkflowId, enqueueQbxmlSignal, type QbxmlBatch } from '../workflows/companyFile/messages';

export interface QuickBooksActivityDeps {
  client: Client;
  taskQueue: string;
  /** The configured batching; applies when this start creates the company file's workflow (it keeps them after). */
  queueLimits?: Partial<QueueLimits>;
}

/** Activities that reach QuickBooks, which means: the company file's queue, drained by the Web Connector. */
export function createQuickBooksActivities({ client, taskQueue, queueLimits }: QuickBooksActivityDeps) {
  return {
    /** Signal-with-start, so a company file's workflow exists as soon as anyone needs it. */
    async submitQbxmlBatch(input: { connection: string; batch: QbxmlBatch }): Promise<void> {
      refuseUnbuildable(input.batch);
      await client.workflow.signalWithStart(companyFile, {
        workflowId: companyFileWorkflowId(input.connection),
        taskQueue,
        args: [{ connection: input.connection, ...(queueLimits ? { limits: queueLimits } : {}) }],
        signal: enqueueQbxmlSignal,
        signalArgs: [input.batch],
      });
    },
  };
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
