import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { continueIterator, type QbxmlRequest, type QbxmlResponse } from '../../src/qbxml/requests';
import {
  closeSession,
  dropGoneRequesters,
  endSession,
  enqueue,
  gatherArrivals,
  inFlightWritesSettled,
  liveSessionIsWriting,
  MAX_REMEMBERED_BATCHES,
  openSession,
  percentDone,
  queuedWriters,
  receiveResponse,
  takeRequests,
  type TakeRules,
} from '../../src/workflows/companyFile/sessionQueue';
import {
  defaultQueueLimits,
  newCompanyFileState,
  type CompanyFileState,
} from '../../src/workflows/companyFile/companyFileState';

const T1 = 'a'.repeat(64);
const T2 = 'b'.repeat(64);
const limits = { ...defaultQueueLimits, maxRequestsPerRoundTrip: 3, maxRecordsPerRoundTrip: 250 };

const query = (requestId: string, maxReturned = 100): QbxmlRequest => ({
  type: 'CustomerQuery',
  requestId,
  maxReturned,
  iterator: 'Start',
});
const add = (requestId: string, name: string): QbxmlRequest => ({ type: 'CustomerAdd', requestId, fields: { name } });
const ok = (requestId: string, extra: Partial<QbxmlResponse> = {}): QbxmlResponse => ({
  requestId,
  type: 'CustomerQueryRs',
  statusCode: 0,
  statusSeverity: 'Info',
  statusMessage: 'Status OK',
  records: [],
  ...extra,
});

function stateWith(...requests: QbxmlRequest[]): CompanyFileState {
  const state = newCompanyFileState('east');
  enqueue(state, { requester: 'wf-1', batchId: 'b1', requests });
  return state;
}

describe('company file session queue', () => {
  it('answers none when nothing is queued; a new run takes over from a dead one, settling what it had in flight', () => {
    const empty = newCompanyFileState('east');
    assert.equal(openSession(empty, T1, 0, limits).status, 'none');
    assert.equal(empty.session, null);

    const state = stateWith(query('q1'), add('a1', 'A'));
    assert.equal(openSession(state, T1, 0, limits).status, 'ok');
    takeRequests(state, T1, 1, limits);
    const takeover = openSession(state, T2, 1000, limits);
    assert.equal(takeover.status, 'ok');
    assert.equal(state.session?.ticketHash, T2);
    assert.deepEqual(
      takeover.routed.flatMap((g) => g.results).map((r) => [r.requestId, r.kind]),
      [['a1', 'outcomeUnknown']],
    );
    assert.deepEqual(
      state.queue.map((p) => p.request.requestId),
      ['q1'],
    );
    assert.deepEqual(
      takeRequests(state, T1, 1001, limits).result,
      { status: 'invalidTicket' },
      'the old ticket is dead',
    );
  });

  it('tells a second Web Connector the file is busy while the live session has a write in flight, not after', () => {
    const state = stateWith(add('a1', 'A'), query('q1'));
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    assert.equal(liveSessionIsWriting(state, T2, 1000, limits), true, 'the Add is still with QuickBooks');
    assert.equal(liveSessionIsWriting(state, T1, 1000, limits), false, 'the live session itself is never busy');
    assert.equal(
      liveSessionIsWriting(state, T2, limits.sessionIdleTimeoutMs + 1, limits),
      false,
      'a silent session expires and may be taken over',
    );
    assert.equal(inFlightWritesSettled(state, 1 + limits.writeSettleMs - 1, limits), false, 'QuickBooks may be at it');
    assert.equal(inFlightWritesSettled(state, 1 + limits.writeSettleMs, limits), true, 'silent since the hand-out');
    assert.ok(limits.writeSettleMs < limits.sessionIdleTimeoutMs, 'settling frees the file before the session expires');
    receiveResponse(state, { ticketHash: T1, responses: [ok('a1'), ok('q1')] }, 2000);
    assert.equal(liveSessionIsWriting(state, T2, 2001, limits), false, 'answered: nothing is in doubt');

    const reading = stateWith(query('q2'));
    openSession(reading, T1, 0, limits);
    takeRequests(reading, T1, 1, limits);
    assert.equal(liveSessionIsWriting(reading, T2, 1000, limits), false, 'a query in flight is simply asked again');
  });

  it('drops the queued requests of a requester run that is gone, and only those', () => {
    const state = newCompanyFileState('east');
    enqueue(state, {
      requester: 'wf-1',
      requesterRunId: 'run-1',
      batchId: 'b1',
      requests: [add('a1', 'A'), query('q1')],
    });
    enqueue(state, { requester: 'wf-1', requesterRunId: 'run-2', batchId: 'b2', requests: [add('a2', 'B')] });
    enqueue(state, { requester: 'wf-2', batchId: 'b3', requests: [add('a3', 'C')] });
    assert.deepEqual(queuedWriters(state), [
      { requester: 'wf-1', runId: 'run-1' },
      { requester: 'wf-1', runId: 'run-2' },
    ]);
    assert.equal(dropGoneRequesters(state, [{ requester: 'wf-1', runId: 'run-1' }]), 2);
    assert.deepEqual(
      state.queue.map((p) => p.request.requestId),
      ['a2', 'a3'],
    );
  });

  it('hands out several requests per round trip within the request and record budgets', () => {
    const cases: { requests: QbxmlRequest[]; expected: string[] }[] = [
      { requests: [add('a1', 'A'), add('a2', 'B'), add('a3', 'C'), add('a4', 'D')], expected: ['a1', 'a2', 'a3'] },
      { requests: [query('q1', 100), query('q2', 100), query('q3', 100)], expected: ['q1', 'q2'] },
      { requests: [query('big', 1000), query('q2', 10)], expected: ['big'] },
    ];
    for (const { requests, expected } of cases) {
      const state = stateWith(...requests);
      openSession(state, T1, 0, limits);
      const { result } = takeRequests(state, T1, 1, limits);
      assert.equal(result.status, 'ok');
      assert.deepEqual(
        result.status === 'ok' ? result.requests.map((r) => r.requestId) : [],
        expected,
        JSON.stringify(requests.map((r) => r.requestId)),
      );
    }
  });

  it('refuses calls with a ticket that is not the session’s', () => {
    const state = stateWith(query('q1'));
    openSession(state, T1, 0, limits);
    assert.deepEqual(takeRequests(state, T2, 1, limits).result, { status: 'invalidTicket' });
    assert.equal(receiveResponse(state, { ticketHash: T2, responses: [] }, 1).percent, -1);
    assert.equal(state.queue.length, 1, 'nothing dequeued by a foreign ticket');
  });

  it('follows an iterator: the next page goes first and the requester sees non-final pages', () => {
    const state = stateWith(query('q1'), add('a1', 'A'));
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    const first = receiveResponse(
      state,
      {
        ticketHash: T1,
        responses: [ok('q1', { iteratorId: '{it}', iteratorRemainingCount: 5 }), ok('a1', { type: 'CustomerAddRs' })],
      },
      2,
    );
    assert.ok(first.percent >= 0 && first.percent < 100);
    const results = first.routed.flatMap((g) => g.results);
    assert.deepEqual(
      results.map((r) => [r.requestId, r.kind === 'response' && r.final]),
      [
        ['q1', false],
        ['a1', true],
      ],
    );
    const next = state.queue[0]!.request;
    assert.equal(next.type, 'CustomerQuery');
    assert.equal(next.type === 'CustomerQuery' && next.iterator, 'Continue');
    assert.equal(next.type === 'CustomerQuery' && next.iteratorId, '{it}');
    takeRequests(state, T1, 3, limits);
    const last = receiveResponse(state, { ticketHash: T1, responses: [ok('q1', { iteratorRemainingCount: 0 })] }, 4);
    assert.equal(last.percent, 100);
  });

  it('on session end puts queries back and reports writes as outcome unknown, never re-sending them', () => {
    const state = stateWith(query('q1'), add('a1', 'A'));
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    const routed = endSession(state, 'QBWC went away');
    assert.deepEqual(
      routed.flatMap((g) => g.results).map((r) => [r.requestId, r.kind]),
      [['a1', 'outcomeUnknown']],
    );
    assert.deepEqual(
      state.queue.map((p) => p.request.requestId),
      ['q1'],
    );
    assert.equal(state.session, null);
  });

  it('isolates the culprit when QuickBooks refuses a whole message (0x80040400), then rejects only it', () => {
    const state = stateWith(add('a1', 'A'), add('a2', 'B'));
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    const refused = receiveResponse(state, { ticketHash: T1, hresult: '0x80040400', message: 'parse error' }, 2);
    assert.ok(refused.percent >= 0, 'the run goes on');
    assert.deepEqual(refused.routed, []);
    const alone = takeRequests(state, T1, 3, limits).result;
    assert.deepEqual(alone.status === 'ok' ? alone.requests.map((r) => r.requestId) : [], ['a1']);
    const rejected = receiveResponse(state, { ticketHash: T1, hresult: '0x80040400', message: 'parse error' }, 4);
    assert.deepEqual(
      rejected.routed.flatMap((g) => g.results).map((r) => [r.requestId, r.kind]),
      [['a1', 'rejected']],
    );
    const second = takeRequests(state, T1, 5, limits).result;
    assert.deepEqual(second.status === 'ok' ? second.requests.map((r) => r.requestId) : [], ['a2']);
  });

  it('rejects a query whose answer cannot be read the third time, and moves on to the rest of the queue', () => {
    const state = stateWith(query('bad'), query('good'), add('a1', 'A'));
    openSession(state, T1, 0, limits);
    const routed: string[] = [];
    const sent: string[][] = [];
    for (let trip = 1; trip <= 6 && (state.queue.length > 0 || state.inFlight.length > 0); trip++) {
      const taken = takeRequests(state, T1, trip * 10, limits).result;
      const ids = taken.status === 'ok' ? taken.requests.map((r) => r.requestId) : [];
      sent.push(ids);
      // Every answer holding `bad` holds a note QuickBooks writes with a vertical tab.
      const out = receiveResponse(
        state,
        {
          ticketHash: T1,
          responses: ids.filter((id) => id !== 'bad').map((id) => ok(id)),
          unreadable: ids.includes('bad') ? [{ requestId: 'bad', reason: 'Character reference "&#11;"' }] : [],
        },
        trip * 10 + 1,
        limits,
      );
      for (const r of out.routed.flatMap((g) => g.results)) {
        routed.push(`${r.requestId}:${r.kind}${r.kind === 'rejected' ? `:${r.message}` : ''}`);
      }
    }
    assert.deepEqual(sent, [['bad', 'good', 'a1'], ['bad'], ['bad']]);
    assert.deepEqual(routed, [
      'good:response',
      'a1:response',
      'bad:rejected:QuickBooks answered 3 times, and the answer could not be read: Character reference "&#11;"',
    ]);
    assert.deepEqual({ queued: state.queue.length, inFlight: state.inFlight.length }, { queued: 0, inFlight: 0 });
  });

  it('settles a message whose whole answer is unreadable: writes unknown, queries isolated, a lost next page rejected', () => {
    const state = stateWith(query('q1'), add('a1', 'A'), continueIterator(query('page'), '{it}'));
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    const tooLarge = { ticketHash: T1, hresult: 'unreadable-response', message: 'larger than 10485760 bytes' };
    const out = receiveResponse(state, tooLarge, 2, limits);
    assert.ok(out.percent >= 0, 'the run goes on');
    assert.deepEqual(
      out.routed.flatMap((g) => g.results).map((r) => [r.requestId, r.kind]),
      [
        ['a1', 'outcomeUnknown'],
        ['page', 'rejected'],
      ],
    );
    assert.deepEqual(
      state.queue.map((p) => [p.request.requestId, p.isolate, p.unreadableAnswers]),
      [['q1', true, 0]],
      'not counted: nothing says q1 was the culprit',
    );
    takeRequests(state, T1, 3, limits);
    receiveResponse(state, tooLarge, 4, limits);
    assert.deepEqual(
      state.queue.map((p) => [p.request.requestId, p.unreadableAnswers]),
      [['q1', 1]],
    );

    const legacy = stateWith(query('q1'));
    openSession(legacy, T1, 0, limits);
    takeRequests(legacy, T1, 1, limits);
    assert.ok(receiveResponse(legacy, tooLarge, 2).percent < 0, 'runs before the rule keep the old answer');
  });

  it('treats any other HRESULT as a failed run: negative percent, queries kept, writes unknown', () => {
    const state = stateWith(query('q1'), add('a1', 'A'));
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    const out = receiveResponse(
      state,
      { ticketHash: T1, hresult: '0x80040401', message: 'Could not access QuickBooks.' },
      2,
    );
    assert.ok(out.percent < 0);
    assert.match(state.lastError, /0x80040401/);
    assert.deepEqual(
      state.queue.map((p) => p.request.requestId),
      ['q1'],
    );
    assert.deepEqual(
      out.routed.flatMap((g) => g.results).map((r) => r.kind),
      ['outcomeUnknown'],
    );
  });

  it('reports integer progress below 100 while work is queued', () => {
    const state = stateWith(add('a1', 'A'), add('a2', 'B'), add('a3', 'C'), add('a4', 'D'));
    openSession(state, T1, 0, { ...limits, maxRequestsPerRoundTrip: 1 });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { result } = takeRequests(state, T1, i, { ...limits, maxRequestsPerRoundTrip: 1 });
      const id = result.status === 'ok' ? result.requests[0]!.requestId : '';
      seen.push(receiveResponse(state, { ticketHash: T1, responses: [ok(id, { type: 'CustomerAddRs' })] }, i).percent);
    }
    assert.deepEqual(seen, [25, 50, 75, 100]);
    assert.ok(seen.every(Number.isInteger));
    assert.equal(percentDone(state), 100);
    assert.equal(closeSession(state, T1).message, 'OK');
  });
  it('waits for an expected follow-up through NoOp pauses, a bounded number of times, then ends', () => {
    const state = newCompanyFileState('east');
    enqueue(state, { requester: 'wf-1', batchId: 'b1', requests: [query('q1')], followUp: true });
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    const answered = receiveResponse(state, { ticketHash: T1, responses: [ok('q1')] }, 2);
    assert.equal(answered.percent, 99, 'not done: the requester is expected to send more');
    assert.deepEqual(takeRequests(state, T1, 3, limits).result, { status: 'noOp' });
    assert.equal(state.lastError, 'NoOp', 'getLastError must answer NoOp for QBWC to pause and ask again');

    // The follow-up arrives during the pause: it goes out, and the wait starts over after its answer.
    enqueue(state, { requester: 'wf-1', batchId: 'b2', requests: [add('a1', 'A')], followUp: true });
    const taken = takeRequests(state, T1, 4, limits).result;
    assert.equal(taken.status === 'ok' && taken.requests.length, 1);
    receiveResponse(state, { ticketHash: T1, responses: [ok('a1', { type: 'CustomerAddRs' })] }, 5);
    for (let i = 0; i < limits.maxNoOps; i++) {
      assert.deepEqual(takeRequests(state, T1, 6 + i, limits).result, { status: 'noOp' });
    }
    assert.deepEqual(takeRequests(state, T1, 20, limits).result, { status: 'ok', requests: [] }, 'then it ends');
  });

  it("ends at once when the answers close the requester's QuickBooks work", () => {
    const state = stateWith(query('q1'));
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    assert.equal(receiveResponse(state, { ticketHash: T1, responses: [ok('q1')] }, 2).percent, 100);
    assert.deepEqual(takeRequests(state, T1, 3, limits).result, { status: 'ok', requests: [] });
  });

  it('accepts a batch once while it is queued, in flight and answered, also after continue-as-new', () => {
    const state = newCompanyFileState('east');
    state.acceptedBatches = [];
    const batch = { requester: 'wf-1', batchId: 'b1', requests: [add('a1', 'A')] };
    assert.equal(enqueue(state, batch), true);
    assert.equal(enqueue(state, batch), false, 'queued');
    assert.equal(state.queue.length, 1);
    openSession(state, T1, 0, limits);
    takeRequests(state, T1, 1, limits);
    assert.equal(enqueue(state, batch), false, 'in flight');
    assert.equal(state.queue.length, 0);
    receiveResponse(state, { ticketHash: T1, responses: [ok('a1', { type: 'CustomerAddRs' })] }, 2);
    assert.equal(enqueue(state, batch), false, 'answered');
    const carried = JSON.parse(JSON.stringify(state)) as CompanyFileState;
    assert.equal(enqueue(carried, batch), false, 'after continue-as-new');
    assert.deepEqual([carried.queue.length, carried.inFlight.length], [0, 0]);
    assert.equal(enqueue(carried, { ...batch, batchId: 'b2' }), true, 'another batch of the same requester');
    assert.equal(enqueue(carried, { ...batch, requester: 'wf-2' }), true, 'the same batch id of another requester');
  });

  it('forgets the oldest answered batches beyond its bound, never one still queued', () => {
    const state = newCompanyFileState('east');
    state.acceptedBatches = [];
    enqueue(state, { requester: 'wf-1', batchId: 'kept', requests: [add('k', 'K')] });
    for (let i = 0; i < MAX_REMEMBERED_BATCHES + 5; i++) {
      enqueue(state, { requester: 'wf-2', batchId: `b${i}`, requests: [] });
    }
    assert.equal(enqueue(state, { requester: 'wf-1', batchId: 'kept', requests: [add('k', 'K')] }), false);
    assert.equal(state.queue.length, 1);
  });

  describe('gathering a burst into one message', () => {
    const burstLimits = { ...defaultQueueLimits, maxRequestsPerRoundTrip: 50, maxRecordsPerRoundTrip: 500 };
    const always: TakeRules = { mayGather: () => true, lookupsByCount: true };
    /** `count` requester runs, each queueing one look-up at `atMs + i`. */
    function burst(state: CompanyFileState, count: number, atMs: number, from = 0): void {
      for (let i = from; i < from + count; i++) {
        enqueue(state, { requester: `acct-${i}`, batchId: 'b', requests: [add(`a${i}`, `A${i}`)] }, atMs + i);
      }
    }

    it('pauses while requests from several requesters are still arriving, then sends them in one message', () => {
      const state = newCompanyFileState('east');
      burst(state, 3, 1_000);
      openSession(state, T1, 1_010, burstLimits);
      assert.deepEqual(takeRequests(state, T1, 1_020, burstLimits, always).result, { status: 'noOp' });
      assert.equal(state.lastError, 'NoOp', 'getLastError must answer NoOp for QBWC to pause and ask again');
      burst(state, 20, 4_000, 3);
      assert.deepEqual(takeRequests(state, T1, 6_020, burstLimits, always).result, { status: 'noOp' });
      burst(state, 20, 9_000, 23);
      // Two pauses at most (maxGatherHolds), however busy the arrivals: then all 43 go out together.
      const taken = takeRequests(state, T1, 11_020, burstLimits, always).result;
      assert.equal(taken.status === 'ok' && taken.requests.length, 43);
      assert.equal(state.totals.roundTrips, 1);
    });

    it('the pauses start over once a message went out', () => {
      const state = newCompanyFileState('east');
      burst(state, 3, 0);
      openSession(state, T1, 0, burstLimits);
      takeRequests(state, T1, 10, burstLimits, always);
      takeRequests(state, T1, 20, burstLimits, always);
      const first = takeRequests(state, T1, 30, burstLimits, always).result;
      assert.equal(first.status === 'ok' && first.requests.length, 3);
      receiveResponse(state, { ticketHash: T1, responses: ['a0', 'a1', 'a2'].map((id) => ok(id)) }, 40);
      burst(state, 2, 50, 10);
      assert.deepEqual(takeRequests(state, T1, 60, burstLimits, always).result, { status: 'noOp' });
    });

    it('sends at once: one requester alone, a quiet queue, a full message, a read under way, or no marker', () => {
      const alone = newCompanyFileState('east');
      enqueue(alone, { requester: 'order-1', batchId: 'b', requests: [query('q1'), add('a1', 'A')] }, 1_000);
      openSession(alone, T1, 1_000, burstLimits);
      assert.equal(gatherArrivals(alone, 1_001, burstLimits), false, 'one order must not wait for others');

      const quiet = newCompanyFileState('east');
      burst(quiet, 3, 0);
      openSession(quiet, T1, 0, burstLimits);
      assert.equal(gatherArrivals(quiet, 1_999, burstLimits), true);
      assert.equal(gatherArrivals(quiet, 2_002, burstLimits), false, 'nothing arrived within gatherQuietMs');

      const full = newCompanyFileState('east');
      burst(full, 50, 0);
      openSession(full, T1, 0, burstLimits);
      assert.equal(gatherArrivals(full, 10, burstLimits), false, 'a full message goes out');

      const heavy = newCompanyFileState('east');
      enqueue(heavy, { requester: 'poll', batchId: 'b', requests: [query('q1', 300)] }, 0);
      enqueue(heavy, { requester: 'poll-2', batchId: 'b', requests: [query('q2', 300)] }, 0);
      openSession(heavy, T1, 0, burstLimits);
      assert.equal(gatherArrivals(heavy, 10, burstLimits), false, 'reads filling maxRecordsPerRoundTrip go out');

      const reading = newCompanyFileState('east');
      burst(reading, 3, 0);
      enqueue(reading, { requester: 'poll', batchId: 'page', requests: [continueIterator(query('q1'), 'it-1')] }, 0);
      openSession(reading, T1, 0, burstLimits);
      assert.equal(gatherArrivals(reading, 10, burstLimits), false, "a read's next page does not wait");

      const untimed = newCompanyFileState('east');
      enqueue(untimed, { requester: 'r1', batchId: 'b', requests: [add('a1', 'A')] });
      enqueue(untimed, { requester: 'r2', batchId: 'b', requests: [add('a2', 'B')] });
      openSession(untimed, T1, 0, burstLimits);
      assert.equal(gatherArrivals(untimed, 0, burstLimits), false, 'batches queued before arrivals were timed');

      const off = newCompanyFileState('east');
      burst(off, 3, 0);
      openSession(off, T1, 0, { ...burstLimits, maxGatherHolds: 0 });
      assert.equal(gatherArrivals(off, 10, { ...burstLimits, maxGatherHolds: 0 }), false, 'maxGatherHolds 0');

      // Without the marker's consent (runs recorded before) the same queue goes out at once, and the marker is asked
      // only when the round trip would wait.
      const legacy = newCompanyFileState('east');
      burst(legacy, 3, 0);
      openSession(legacy, T1, 0, burstLimits);
      let asked = 0;
      const refuse = (): boolean => {
        asked += 1;
        return false;
      };
      const sent = takeRequests(legacy, T1, 10, burstLimits, { mayGather: refuse }).result;
      assert.equal(sent.status === 'ok' && sent.requests.length, 3);
      assert.equal(asked, 1);
      burst(legacy, 1, 20, 5);
      receiveResponse(legacy, { ticketHash: T1, responses: ['a0', 'a1', 'a2'].map((id) => ok(id)) }, 30);
      takeRequests(legacy, T1, 40, burstLimits, { mayGather: refuse });
      assert.equal(asked, 1, 'one requester alone: the marker is not asked');
    });

    it('a query put back to the queue after its message went unanswered is not a new arrival', () => {
      const state = newCompanyFileState('east');
      enqueue(state, { requester: 'poll', batchId: 'b', requests: [query('q1')] }, 0);
      enqueue(state, { requester: 'other', batchId: 'b', requests: [query('q2')] }, 0);
      openSession(state, T1, 5_000, burstLimits);
      const first = takeRequests(state, T1, 5_000, burstLimits, always).result;
      assert.equal(first.status === 'ok' && first.requests.length, 2);
      // No answer, and QBWC asks again: the two queries are requeued, with their arrival as it was.
      const again = takeRequests(state, T1, 5_100, burstLimits, always).result;
      assert.equal(again.status === 'ok' && again.requests.length, 2);
    });
  });

  it('costs a look-up of named records one record a name, so a burst of look-ups fills one message', () => {
    const lookups = (state: CompanyFileState): void => {
      for (let i = 0; i < 20; i++) {
        const requests: QbxmlRequest[] = [
          i % 2 === 0
            ? { type: 'CustomerQuery', requestId: `l${i}`, fullNames: [`Arriving ${i}`] }
            : { type: 'CustomerQuery', requestId: `l${i}`, listIds: [`80000${i}-1790000000`] },
        ];
        enqueue(state, { requester: `acct-${i}`, batchId: 'look-up', requests });
      }
    };
    const wide = { ...defaultQueueLimits, maxRequestsPerRoundTrip: 100, maxRecordsPerRoundTrip: 500 };
    const counted = newCompanyFileState('east');
    lookups(counted);
    openSession(counted, T1, 0, wide);
    const all = takeRequests(counted, T1, 1, wide, { lookupsByCount: true }).result;
    assert.equal(all.status === 'ok' && all.requests.length, 20);

    // Runs recorded before costed each look-up as a page of 100: five to a message.
    const paged = newCompanyFileState('east');
    lookups(paged);
    openSession(paged, T1, 0, wide);
    const five = takeRequests(paged, T1, 1, wide).result;
    assert.equal(five.status === 'ok' && five.requests.length, 5);

    // Invoice numbers may repeat in QuickBooks: a look-up by RefNumber is costed five records, 100 to a message.
    const numbers = newCompanyFileState('east');
    for (let i = 0; i < 120; i++) {
      enqueue(numbers, {
        requester: `order-${i}`,
        batchId: 'find',
        requests: [{ type: 'InvoiceQuery', requestId: `n${i}`, refNumbers: [`SO-${i}`] }],
      });
    }
    openSession(numbers, T1, 0, wide);
    const byNumber = takeRequests(numbers, T1, 1, wide, { lookupsByCount: true }).result;
    assert.equal(byNumber.status === 'ok' && byNumber.requests.length, 100);
    const rest = newCompanyFileState('east');
    enqueue(rest, {
      requester: 'order',
      batchId: 'find',
      requests: Array.from({ length: 3 }, (_, i) => ({
        type: 'InvoiceQuery' as const,
        requestId: `m${i}`,
        refNumbers: Array.from({ length: 40 }, (_, k) => `SO-${i}-${k}`),
      })),
    });
    openSession(rest, T1, 0, wide);
    const twoOfThree = takeRequests(rest, T1, 1, wide, { lookupsByCount: true }).result;
    assert.equal(twoOfThree.status === 'ok' && twoOfThree.requests.length, 2, '40 numbers are 200 records');
  });
});
