import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createQuickBooksActivities } from '../../src/activities/quickbooks';
import type { QbxmlRequest } from '../../src/qbxml/requests';
import type { QbxmlBatch } from '../../src/workflows/companyFile/messages';
import { sandboxSyncSettings, type SyncSettings } from '../../src/config/syncSettings';

function activitiesWithSignals(policy?: 'transliterate' | 'fail'): {
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
  const settings = new Map<string, SyncSettings>();
  if (policy) settings.set('east', { ...sandboxSyncSettings('east'), quickbooksText: { outsideWindows1252: policy } });
  return { submit: createQuickBooksActivities({ client, taskQueue: 'q', settings }).submitQbxmlBatch, signals };
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

  const greek: QbxmlRequest = {
    type: 'CustomerAdd',
    requestId: 'g',
    fields: { name: 'Ελληνικά ΑΕ', billAddress: { city: 'Αθήνα', addr1: 'Odos 1' } },
  };

  it("transliterates text QuickBooks cannot store and returns what it changed, for the run's history", async () => {
    const { submit, signals } = activitiesWithSignals('transliterate');
    const result = await submit({ connection: 'east', batch: { requester: 'w', batchId: 'b', requests: [greek] } });
    const sent = (signals[0] as QbxmlBatch).requests[0] as QbxmlRequest & { fields: Record<string, unknown> };
    assert.equal(sent.fields.name, 'Ellinika AE');
    assert.deepEqual(sent.fields.billAddress, { city: 'Athina', addr1: 'Odos 1' });
    assert.deepEqual(result.transliterated, [
      { field: 'name', from: 'Ελληνικά ΑΕ', to: 'Ellinika AE' },
      { field: 'billAddress.city', from: 'Αθήνα', to: 'Athina' },
    ]);
  });

  it('under the fail policy fails that requester alone, naming the field and the characters', async () => {
    const { submit, signals } = activitiesWithSignals('fail');
    await assert.rejects(
      submit({ connection: 'east', batch: { requester: 'w', batchId: 'b', requests: [greek] } }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.type, 'OutsideWindows1252Error');
        assert.match(err.message, /CustomerAdd\.name: QuickBooks cannot store "Ε" \(U\+0395\)/);
        return true;
      },
    );
    assert.equal(signals.length, 0);
  });
});
