import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createQuickBooksActivities } from '../../src/activities/quickbooks';
import type { QbxmlRequest } from '../../src/qbxml/requests';

function activitiesWithSignals(): {
  submit: ReturnType<typeof createQuickBooksActivities>['submitQbxmlBatch'];
  signals: unknown[];
} {
  const signals: unknown[] = [];
  const client = {
    workflow: {
      signalWithStart: (_wf: unknown, options: { signalArgs: unknown[] }) => {
        signals.push(...options.signalArgs);
        return Promise.resolve();
      },
    },
  } as unknown as Client;
  return { submit: createQuickBooksActivities({ client, taskQueue: 'q' }).submitQbxmlBatch, signals };
}

const invoice = (amount: string): QbxmlRequest => ({
  type: 'InvoiceAdd',
  requestId: `r-${amount}`,
  fields: { customerRef: { fullName: 'Buyer' }, lines: [{ itemRef: { fullName: 'Labor' }, amount }] },
});

describe('submitQbxmlBatch', () => {
  it('refuses a batch holding a request QuickBooks would refuse, before it reaches the queue', async () => {
    const { submit, signals } = activitiesWithSignals();
    await assert.rejects(
      submit({
        connection: 'east',
        batch: { requester: 'w', batchId: 'b', requests: [invoice('1.00'), invoice('500.5')] },
      }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.type, 'QbxmlFieldError');
        assert.match(err.message, /lines\[0\]\.amount/);
        assert.match(err.message, /AMTTYPE/);
        return true;
      },
    );
    assert.equal(signals.length, 0);
  });

  it('enqueues a batch the builder accepts', async () => {
    const { submit, signals } = activitiesWithSignals();
    await submit({ connection: 'east', batch: { requester: 'w', batchId: 'b', requests: [invoice('500.50')] } });
    assert.equal(signals.length, 1);
  });
});
