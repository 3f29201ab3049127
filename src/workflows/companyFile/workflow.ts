import type { CompanyFileInput } from './input';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { legacyCompanyFile } from './legacyCompanyFile';
import {
  advanceCursorsSignal,
  choiceNamesQuery,
  closeSessionUpdate,
  forgetOwnWritesSignal,
  ownWritesQuery,
  rememberOwnWritesSignal,
  companyFileStatusQuery,
  connectionErrorUpdate,
  enqueueQbxmlSignal,
  lastErrorQuery,
  openSessionUpdate,
  qbxmlResultsSignal,
  receiveResponseUpdate,
  rememberChoiceNamesSignal,
  syncCursorsQuery,
  takeRequestsUpdate,
  queuedWritersQuery,
  unknownBatchesQuery,
  webConnectorContactQuery,
  type OwnWrites,
  type QuickBooksChoiceNames,
  type ReceiveResponseInput,
  type SessionCall,
  type TakeRequestsInput,
  type WebConnectorContact,
} from './messages';
import {
  closeSession,
  endSession,
  dropGoneRequesters,
  enqueue,
  queuedWriters,
  inFlightWritesSettled,
  liveSessionIsWriting,
  openSession,
  receiveResponse,
  sessionExpired,
  takeRequests,
  unknownBatches,
} from './sessionQueue';
import {
  defaultQueueLimits,
  newCompanyFileState,
  ownWritesIn,
  ownWritesInReads,
  modsInFlightSent,
  recordsRead,
  type QueueLimits,
  type RoutedResults,
} from './companyFileState';
import { hasUnreadableAnswer } from './unreadableAnswers';
import { fitHandover, handoverBytes, RequestBytes } from './handover';

/**
 * Marks runs of the design below (docs/versioning.md): every command is issued synchronously by the handler of the
 * job that causes it, never by the main loop reacting to a handler.
 */
const SESSION_WATCH_PATCH = 'company-file-session-watch';

/** A second Web Connector is answered `busy` while the live session has a write in flight (issue 11 item 14). */
const BUSY_WHILE_WRITING_PATCH = 'company-file-busy-while-writing';

/** ... but only until its writes have settled (`writeSettleMs`), not until it expires: found by the chaos run. */
const WRITES_SETTLE_PATCH = 'company-file-writes-settle';

/**
 * A query whose answer cannot be read goes back to its requester as rejected after `maxUnreadableAnswers` tries, and a
 * write's unreadable answer makes its outcome unknown (issue 11 item 3).
 */
const UNREADABLE_ANSWERS_PATCH = 'company-file-unreadable-answers';

/**
 * A query starting a read whose answer alone could not be read is asked again for half its page (`settleUnreadable`):
 * a page of large records is too large for one Update, and the same page asked again is too. Asked only then.
 */
const HALVE_UNREADABLE_PAGE_PATCH = 'company-file-halve-unreadable-page';

/**
 * A round trip may wait (NoOp) for requests still arriving from several requesters, so a burst travels together
 * (issue 15 item 5; `gatherArrivals`). Asked only when a round trip would wait.
 */
const GATHER_ARRIVALS_PATCH = 'company-file-gather-arrivals';

/** A look-up of named records counts one record a name towards `maxRecordsPerRoundTrip`, not a page (`TakeRules`). */
const LOOKUPS_BY_COUNT_PATCH = 'company-file-lookups-by-count';

/** Own writes remembered at most; the oldest go first (a record then merely syncs as unchanged once). */
const MAX_OWN_WRITES = 20_000;

/** Updates cost history events; well below Temporal's 2,000 Updates per execution. */
const MAX_UPDATES_PER_RUN = 1000;
/** The run continues as new only once every delivery it started has been confirmed (see the end of `companyFile`). */
const DELIVERED_BEFORE_HANDOVER_PATCH = 'company-file-delivered-before-handover';
/**
 * The run hands over an input within `handoverMaxBytes` (`fitHandover`), serving on while its queue alone is larger.
 * Asked only when the whole input is larger: runs recorded before handed everything over.
 */
const HANDOVER_WITHIN_PAYLOAD_LIMIT_PATCH = 'company-file-handover-within-payload-limit';
const TICKET_HASH = /^[0-9a-f]{64}$/;

function validateTicket(call: SessionCall): void {
  if (!TICKET_HASH.test(call.ticketHash)) throw new Error('ticketHash must be a SHA-256 hex digest');
}

/**
 * One per QuickBooks company file (`qbfile/<connection>`): owns the queue of qbXML requests waiting for the Web
 * Connector and the one live QBWC session. QuickBooks handles one request at a time per company file; this workflow
 * is the single place that enforces it.
 *
 * Replay safety: a worker that lost its cache may hand a workflow task to this code together with the jobs of the
 * task before it (a task that produced no command), while a replay hands them over one task at a time. The commands
 * must not depend on that grouping, so
 * - every command (Update responses, result deliveries, the session watch's timer) is issued synchronously by the
 *   handler of the Update, signal or timer that causes it — its order then follows the order of the jobs;
 * - signal handlers only change state and issue no command;
 * - the main loop only waits for the moment to continue as new.
 */
export async function companyFile(input: CompanyFileInput): Promise<void> {
  // Runs recorded before this design replay with the code that recorded them.
  if (!patched(SESSION_WATCH_PATCH)) return legacyCompanyFile(input);

  const limits: QueueLimits = { ...defaultQueueLimits, ...input.limits };
  const state = input.state ?? newCompanyFileState(input.connection);
  state.acceptedBatches ??= [];
  // What this run has added to its history, counted from the jobs themselves: Temporal's own figures (history size,
  // continue-as-new suggested) come with each workflow task, and which task a job is handed over with can differ
  // between a cold worker and a replay.
  let updates = 0;
  let historyBytes = 0;
  const grow = (payload: unknown): void => {
    historyBytes += JSON.stringify(payload)?.length ?? 0;
  };
  const deliveries = new Set<Promise<void>>();

  const ownWrites = new Map<string, string>(Object.entries(input.ownWrites ?? {}));
  const rememberOwnWrites = (writes: OwnWrites): void => {
    for (const [id, editSequence] of Object.entries(writes)) {
      ownWrites.delete(id);
      ownWrites.set(id, editSequence);
    }
    for (const id of ownWrites.keys()) {
      if (ownWrites.size <= MAX_OWN_WRITES) break;
      ownWrites.delete(id);
    }
  };

  const route = (routed: RoutedResults[]): void => {
    for (const group of routed) {
      grow(group);
      // State only: the versions the connector's writes produced are known before anyone can read them back.
      rememberOwnWrites(ownWritesIn(group.results));
      // A version a read brings back holding a Mod whose answer was lost is the connector's own just as well.
      rememberOwnWrites(ownWritesInReads(state, group.results));
    }
    // Then the deliveries, each carrying the own writes among the records it reads as known from the whole message: a
    // Mod answered in the same message as a later page of a poll's read, or since the poll took the own writes, is
    // known to the page that reads it back. Only a signal's payload grows (no command is added or moved), and `grow`
    // counts the results as before, so runs recorded before replay and continue as new where they did.
    for (const group of routed) {
      const read = Object.fromEntries(
        recordsRead(group.results).flatMap((id) => {
          const editSequence = ownWrites.get(id);
          return editSequence === undefined ? [] : [[id, editSequence] as const];
        }),
      );
      const delivery = getExternalWorkflowHandle(group.requester)
        .signal(qbxmlResultsSignal, {
          batchId: group.batchId,
          results: group.results,
          ...(Object.keys(read).length > 0 ? { ownWrites: read } : {}),
        })
        .catch((error: unknown) => {
          // The requester is gone (terminated or reset): its results have no one to go to.
          log.warn('could not deliver qbXML results', { requester: group.requester, error: String(error) });
        })
        .finally(() => deliveries.delete(delivery));
      deliveries.add(delivery);
    }
  };

  /**
   * The session watch: one timer per session, started when the session opens and again, for the time left, each time
   * it fires while the session is still heard from. It is never cancelled (a cancellation issued from one handler
   * could meet a fire already on its way in the same task); when it fires for a session that has ended it does
   * nothing.
   */
  const watchSession = (delayMs: number): void => {
    const watched = state.totals.sessions;
    sleep(delayMs).then(
      () => {
        if (state.session === null || state.totals.sessions !== watched) return;
        if (sessionExpired(state, Date.now(), limits)) {
          route(endSession(state, 'the QBWC session went silent and expired'));
        } else {
          watchSession(state.session.lastSeenAtMs + limits.sessionIdleTimeoutMs - Date.now());
        }
      },
      () => undefined, // cancelled with the run
    );
  };
  // Facts for `qbsync check`; kept in state only, so recording them issues no command.
  let contact: WebConnectorContact = { ...input.contact };
  setHandler(webConnectorContactQuery, () => contact);
  /**
   * Set while the run waits to hand over until its queue fits (`fitHandover`): each session call, the only thing that
   * drains the queue, measures again. Measuring in the condition instead cost a stringify of megabytes per job.
   */
  let handoverWaiting = false;
  let handoverFits = false;
  /** Set while waiting: whether the requests left fit beside the rest of the input, as measured when the wait began. */
  let drainedEnough: (() => boolean) | undefined;
  const sessionHandler = <A extends SessionCall, R>(fn: (call: A) => R) => ({
    handler: (call: A): R => {
      updates += 1;
      grow(call);
      contact = { ...contact, lastCallAtMs: Date.now() };
      const before = state.totals.sessions;
      const result = fn(call);
      if (state.session !== null && state.totals.sessions !== before) watchSession(limits.sessionIdleTimeoutMs);
      if (drainedEnough) handoverFits = drainedEnough();
      return result;
    },
  });

  const cursors: Record<string, string> = { ...input.cursors };
  setHandler(advanceCursorsSignal, (advanced) => {
    // Compared as instants (QuickBooks local times change offset with daylight saving); an older value, from a late
    // or repeated signal, is ignored. A cursor's companion (`<key>:seen`, the records at exactly that instant) moves
    // with its cursor and only then.
    const accepted = new Set<string>();
    for (const [key, value] of Object.entries(advanced)) {
      if (key.endsWith(':seen')) continue;
      const current = cursors[key];
      if (current === undefined || Date.parse(value) >= Date.parse(current)) {
        cursors[key] = value;
        accepted.add(key);
      }
    }
    for (const [key, value] of Object.entries(advanced)) {
      if (key.endsWith(':seen') && accepted.has(key.slice(0, -':seen'.length))) cursors[key] = value;
    }
  });
  setHandler(syncCursorsQuery, () => ({ ...cursors }));
  let choiceNames: QuickBooksChoiceNames = input.choiceNames ?? {};
  setHandler(rememberChoiceNamesSignal, (names) => {
    choiceNames = { ...choiceNames, ...names };
  });
  setHandler(choiceNamesQuery, () => choiceNames);
  setHandler(rememberOwnWritesSignal, rememberOwnWrites);
  setHandler(forgetOwnWritesSignal, (read) => {
    // A list of ids (cycles recorded before) forgets them whatever their version; a version read forgets only that
    // one, so an own write remembered after the poll read the record stays remembered for the next poll.
    if (Array.isArray(read)) for (const id of read) ownWrites.delete(id);
    else
      for (const [id, editSequence] of Object.entries(read))
        if (ownWrites.get(id) === editSequence) ownWrites.delete(id);
  });
  setHandler(ownWritesQuery, () => Object.fromEntries(ownWrites));
  setHandler(enqueueQbxmlSignal, (batch) => {
    grow(batch);
    if (!enqueue(state, batch, Date.now())) {
      log.info('batch already accepted: the repeated enqueue is ignored', {
        requester: batch.requester,
        batchId: batch.batchId,
      });
    }
  });

  setHandler(
    openSessionUpdate,
    sessionHandler((call: SessionCall) => {
      contact = { ...contact, lastSessionAtMs: Date.now() };
      // Runs recorded before this rule took the file over and routed the live session's in-flight writes as unknown.
      if (liveSessionIsWriting(state, call.ticketHash, Date.now(), limits) && patched(BUSY_WHILE_WRITING_PATCH)) {
        // Runs recorded before writes settled kept the file busy until the silent session expired (10 minutes).
        const settled = inFlightWritesSettled(state, Date.now(), limits) && patched(WRITES_SETTLE_PATCH);
        if (!settled) return 'busy';
      }
      const { status, routed } = openSession(state, call.ticketHash, Date.now(), limits);
      route(routed);
      return status;
    }).handler,
    { validator: validateTicket },
  );
  // Only openSession may bring a new ticket. Every other call must carry the live session's: a refused Update leaves
  // nothing in the history and does not count toward Temporal's limit of Updates in flight.
  const validateCurrentTicket = (call: SessionCall): void => {
    validateTicket(call);
    if (state.session?.ticketHash !== call.ticketHash) throw new Error('the ticket is not the live QBWC session’s');
  };
  setHandler(
    takeRequestsUpdate,
    sessionHandler((call: TakeRequestsInput) => {
      if (call.report) contact = { ...contact, report: { ...call.report, atMs: Date.now() } };
      const dropped = dropGoneRequesters(state, call.goneRequesters ?? []);
      if (dropped > 0) log.warn('requests of requesters that are gone were dropped, not sent', { dropped });
      const { result, routed } = takeRequests(state, call.ticketHash, Date.now(), limits, {
        mayGather: () => patched(GATHER_ARRIVALS_PATCH),
        lookupsByCount: patched(LOOKUPS_BY_COUNT_PATCH),
      });
      route(routed);
      // State only, before the message goes out: QuickBooks may apply a Mod whose answer never comes back.
      modsInFlightSent(state);
      return result;
    }).handler,
    { validator: validateCurrentTicket },
  );
  setHandler(
    receiveResponseUpdate,
    sessionHandler((call: ReceiveResponseInput) => {
      // Runs recorded before this rule sent an unreadable answer's queries again however often it happened.
      const rejectUnreadable = hasUnreadableAnswer(call) && patched(UNREADABLE_ANSWERS_PATCH);
      const { percent, routed } = receiveResponse(
        state,
        call,
        Date.now(),
        rejectUnreadable ? { ...limits, mayHalvePage: () => patched(HALVE_UNREADABLE_PAGE_PATCH) } : undefined,
      );
      route(routed);
      return percent;
    }).handler,
    { validator: validateCurrentTicket },
  );
  setHandler(
    connectionErrorUpdate,
    sessionHandler((call: SessionCall & { hresult: string; message: string }) => {
      if (state.session?.ticketHash === call.ticketHash) {
        state.lastError = `QuickBooks could not be opened (${call.hresult}): ${call.message}`;
        route(endSession(state, state.lastError));
      }
      return 'done';
    }).handler,
    { validator: validateCurrentTicket },
  );
  setHandler(
    closeSessionUpdate,
    sessionHandler((call: SessionCall) => {
      const { message, routed } = closeSession(state, call.ticketHash);
      route(routed);
      return message;
    }).handler,
    { validator: validateCurrentTicket },
  );
  setHandler(lastErrorQuery, (call) => {
    if (state.session?.ticketHash === call.ticketHash) return state.lastError;
    // Any other ticket's session has ended. Just after it ended (connectionError) the file's last error is still that
    // session's and worth showing; a NoOp never is: QBWC would pause and ask again, for ever, with a ticket that will
    // get no more work.
    return state.session === null && state.lastError !== 'NoOp' ? state.lastError : '';
  });
  setHandler(companyFileStatusQuery, () => ({
    connection: state.connection,
    queued: state.queue.length,
    inFlight: state.inFlight.length,
    sessionOpen: state.session !== null,
    totals: { ...state.totals },
    ...(handoverWaiting ? { handingOver: true } : {}),
    ...(state.lastConnectedAtMs === undefined
      ? {}
      : { lastConnectedAt: new Date(state.lastConnectedAtMs).toISOString() }),
  }));
  setHandler(queuedWritersQuery, () => queuedWriters(state));
  setHandler(unknownBatchesQuery, ({ requester, batchIds }) => unknownBatches(state, requester, batchIds));

  // A run carried over from before continue-as-new may have a live session: watch it from here.
  if (state.session !== null) {
    watchSession(Math.max(1, state.session.lastSeenAtMs + limits.sessionIdleTimeoutMs - Date.now()));
  }

  const handover = (): CompanyFileInput => ({
    connection: state.connection,
    limits: input.limits,
    state,
    cursors,
    choiceNames,
    ownWrites: Object.fromEntries(ownWrites),
    contact,
  });
  // The main loop issues no command until it is time to continue as new.
  await condition(() => updates >= MAX_UPDATES_PER_RUN || historyBytes > limits.maxHistoryBytes);
  await condition(allHandlersFinished);
  await Promise.all([...deliveries]);
  // An Update handled in the task that confirmed the last delivery may have routed results since: their signal's
  // command would go out with the continue-as-new, and Temporal drops a signal whose sender has closed, leaving the
  // requester to wait an hour before it asks again (seen in the scale-1 benchmark: 31 orders waiting with their
  // InvoiceAdd answered). So the run hands over only once no handler runs and no delivery waits. Runs recorded
  // before handed over at once.
  while ((deliveries.size > 0 || !allHandlersFinished()) && patched(DELIVERED_BEFORE_HANDOVER_PATCH)) {
    await condition(allHandlersFinished);
    await Promise.all([...deliveries]);
  }
  let fitted = fitHandover(handover(), limits.handoverMaxBytes);
  if ((fitted === undefined || fitted.forgotten > 0) && patched(HANDOVER_WITHIN_PAYLOAD_LIMIT_PATCH)) {
    if (fitted === undefined) {
      log.warn('the queue is too large to hand over: the run serves on until the Web Connector has taken enough', {
        queued: state.queue.length,
        maxBytes: limits.handoverMaxBytes,
      });
    }
    handoverWaiting = true;
    const requestBytes = new RequestBytes();
    while (fitted === undefined || deliveries.size > 0 || !allHandlersFinished()) {
      const rest = handoverBytes({ ...handover(), ownWrites: {}, state: { ...state, queue: [], inFlight: [] } });
      drainedEnough = () =>
        rest + requestBytes.of(state.queue) + requestBytes.of(state.inFlight) <= limits.handoverMaxBytes;
      handoverFits = fitted !== undefined;
      await condition(() => handoverFits && allHandlersFinished());
      await Promise.all([...deliveries]);
      fitted = fitHandover(handover(), limits.handoverMaxBytes);
    }
    if (fitted.overLimit) {
      log.error('the handover is over its limit with an empty queue and no own writes: handed over as it is', {
        maxBytes: limits.handoverMaxBytes,
      });
    } else if (fitted.forgotten > 0) log.info('own writes left out of the handover', { forgotten: fitted.forgotten });
    await continueAsNew<typeof companyFile>(fitted.input);
    return;
  }
  await continueAsNew<typeof companyFile>(handover());
}
