import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { utf8Bytes } from '../../src/mapping/payloadBytes';
import { fitHandover, handoverBytes, RequestBytes } from '../../src/workflows/companyFile/handover';
import { newCompanyFileState } from '../../src/workflows/companyFile/companyFileState';
import { enqueue } from '../../src/workflows/companyFile/sessionQueue';
import type { CompanyFileInput } from '../../src/workflows/companyFile/input';

function inputWith(ownWrites: number, queued: number): CompanyFileInput {
  const state = newCompanyFileState('east');
  state.acceptedBatches = [];
  enqueue(state, {
    requester: 'sync/order/1',
    batchId: 'b1',
    requests: Array.from({ length: queued }, (_, i) => ({
      type: 'CustomerAdd' as const,
      requestId: `r${i}`,
      fields: { name: `Customer ${i}` },
    })),
  });
  return {
    connection: 'east',
    state,
    ownWrites: Object.fromEntries(Array.from({ length: ownWrites }, (_, i) => [`8000${i}-1700000000`, `${i}`])),
  };
}

describe('the company file’s handover input (fitHandover)', () => {
  it('counts bytes as UTF-8 writes them: ASCII 1, é 2, € 3, an emoji 4', () => {
    assert.equal(utf8Bytes('abc'), 3);
    assert.equal(utf8Bytes('é'), Buffer.byteLength('é'));
    assert.equal(utf8Bytes('€'), Buffer.byteLength('€'));
    assert.equal(utf8Bytes('Café 🙂 €5'), Buffer.byteLength('Café 🙂 €5'));
  });

  it('hands over an input that fits as it is', () => {
    const input = inputWith(10, 10);
    const fitted = fitHandover(input, handoverBytes(input));
    assert.deepEqual(fitted, { input, forgotten: 0 });
  });

  it('forgets the oldest own writes, and only as many as the limit needs', () => {
    const input = inputWith(1000, 10);
    const total = handoverBytes(input);
    const fitted = fitHandover(input, total - 500);
    assert.ok(fitted);
    assert.ok(handoverBytes(fitted.input) <= total - 500);
    // Minimal: keeping one more of them would not fit.
    const entries = Object.entries(input.ownWrites ?? {});
    const oneMore = { ...input, ownWrites: Object.fromEntries(entries.slice(fitted.forgotten - 1)) };
    assert.ok(handoverBytes(oneMore) > total - 500, `forgot ${fitted.forgotten} of ${entries.length}`);
    const kept = Object.keys(fitted.input.ownWrites ?? {});
    assert.equal(kept[0], `8000${fitted.forgotten}-1700000000`, 'the oldest went first');
    assert.equal(kept.at(-1), '8000999-1700000000', 'the newest stayed');
    // Nothing else changed: the queue is handed over whole.
    assert.equal(fitted.input.state?.queue.length, 10);
  });

  it('refuses to trim the queue: a queue larger than the limit has to be served first', () => {
    const input = inputWith(1000, 2000);
    const withoutOwnWrites = handoverBytes({ ...input, ownWrites: {} });
    assert.equal(fitHandover(input, withoutOwnWrites - 1), undefined);
    const fitted = fitHandover(input, withoutOwnWrites);
    assert.equal(fitted?.forgotten, 1000);
    assert.equal(fitted?.input.state?.queue.length, 2000);
    // Requests in flight go out of the state as their answers come, as queued ones do: waited for alike.
    const sent = { ...input, state: { ...input.state!, queue: [], inFlight: input.state!.queue } };
    assert.equal(fitHandover(sent, withoutOwnWrites - 1), undefined);
  });

  it('does not wait for a queue whose draining would not help: over the limit without it, it hands over as it can', () => {
    const input = inputWith(1000, 10);
    const state = input.state!;
    // Cursors of an unusual size (a mass update's seen list) make it large, not the queue.
    const large = { ...input, cursors: { 'qb:Customer:seen': 'x'.repeat(50_000) } };
    const floor = handoverBytes({ ...large, ownWrites: {}, state: { ...state, queue: [], inFlight: [] } });
    const fitted = fitHandover(large, floor - 1);
    assert.ok(fitted, 'handed over, not waited for');
    assert.equal(fitted.overLimit, true);
    assert.deepEqual(fitted.input.ownWrites, {});
    assert.equal(fitted.input.state?.queue.length, 10, 'the queue still goes whole');
    // With room for everything but the queue, the run waits for the Web Connector instead.
    assert.equal(fitHandover(large, floor), undefined);
  });

  it('measures queued requests one by one as the whole input counts them, each once', () => {
    const input = inputWith(0, 300);
    const queue = input.state!.queue;
    const withoutQueue = handoverBytes({ ...input, state: { ...input.state!, queue: [] } });
    const bytes = new RequestBytes();
    // The JSON of an array: each request and a comma between them.
    assert.equal(withoutQueue + bytes.of(queue) - 1, handoverBytes(input));
    // The second time from memory: a mark set in place later (`isolate`, `unreadableAnswers`) is a few bytes the
    // estimate misses; the exact measure before the handover itself sees them.
    queue[0]!.request = { ...queue[0]!.request, requestId: 'r0-longer-than-before' };
    assert.equal(withoutQueue + bytes.of(queue) - 1, handoverBytes(input) - 'r0-longer-than-before'.length + 2);
  });
});
