import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
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
  type QuickBooksChoiceNames,
  type SessionCall,
} from './messages';
import {
  closeSession,
  endSession,
  enqueue,
  openSession,
  receiveResponse,
  sessionExpired,
  takeRequests,
} from './sessionQueue';
import { defaultQueueLimits, newCompanyFileState, type QueueLimits, type RoutedResults } from './companyFileState';
import type { CompanyFileInput } from './input';

/** Own writes remembered at most; the oldest go first (a record then merely syncs as unchanged once). */
const MAX_OWN_WRITES = 20_000;

/** Updates cost history events; well below Temporal's 2,000 Updates per execution. */
const MAX_UPDATES_PER_RUN = 1000;
const MAX_HISTORY_BYTES = 8 * 1024 * 1024;
const TICKET_HASH = /^[0-9a-f]{64}$/;

function validateTicket(call: SessionCall): void {
  if (!TICKET_HASH.test(call.ticketHash)) throw new Error('ticketHash must be a SHA-256 hex digest');
}

/** Marker of the first live Update a legacy run handles: the run then continues as new, into today's design. */
const LEAVE_LEGACY_LOOP_PATCH = 'company-file-leaves-legacy-loop';

/**
 * The companyFile workflow as it was before the session watch (docs/versioning.md), kept unchanged so that runs
 * recorded by it replay. Its loop re-arms the session-expiry timer in reaction to Update handlers, so the order of an
 * Update's completion and that timer depends on how a worker groups jobs into activations, which differs between a
 * cold worker and a replay (the bricked qbfile/east). A legacy run therefore leaves at its first live Update: it
 * continues as new, and the new run uses the design of workflow.ts.
 */
export async function legacyCompanyFile(input: CompanyFileInput): Promise<void> {
  const limits: QueueLimits = { ...defaultQueueLimits, ...input.limits };
  const state = input.state ?? newCompanyFileState(input.connection);
  let updates = 0;
  let wake = false;
  let leave = false;
  const deliveries = new Set<Promise<void>>();

  const route = (routed: RoutedResults[]): void => {
    for (const group of routed) {
      const delivery = getExternalWorkflowHandle(group.requester)
        .signal(qbxmlResultsSignal, { batchId: group.batchId, results: group.results })
        .catch((error: unknown) => {
          // The requester is gone (terminated or reset): its results have no one to go to.
          log.warn('could not deliver qbXML results', { requester: group.requester, error: String(error) });
        })
        .finally(() => deliveries.delete(delivery));
      deliveries.add(delivery);
    }
  };
  const counted = <T>(fn: () => T): T => {
    updates += 1;
    wake = true;
    // Synchronously in the handler, so the marker sits between the Update's acceptance and its completion whatever the
    // grouping of jobs; false for every Update the legacy code itself recorded.
    if (patched(LEAVE_LEGACY_LOOP_PATCH)) leave = true;
    return fn();
  };

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
  const ownWrites = new Map<string, string>(Object.entries(input.ownWrites ?? {}));
  setHandler(rememberOwnWritesSignal, (writes) => {
    for (const [id, editSequence] of Object.entries(writes)) {
      ownWrites.delete(id);
      ownWrites.set(id, editSequence);
    }
    for (const id of ownWrites.keys()) {
      if (ownWrites.size <= MAX_OWN_WRITES) break;
      ownWrites.delete(id);
    }
  });
  setHandler(forgetOwnWritesSignal, (read) => {
    for (const id of Array.isArray(read) ? read : Object.keys(read)) ownWrites.delete(id);
  });
  setHandler(ownWritesQuery, () => Object.fromEntries(ownWrites));
  setHandler(enqueueQbxmlSignal, (batch) => {
    enqueue(state, batch);
    wake = true;
  });
  setHandler(
    openSessionUpdate,
    (call) =>
      counted(() => {
        const { status, routed } = openSession(state, call.ticketHash, Date.now(), limits);
        route(routed);
        return status;
      }),
    { validator: validateTicket },
  );
  setHandler(
    takeRequestsUpdate,
    (call) =>
      counted(() => {
        const { result, routed } = takeRequests(state, call.ticketHash, Date.now(), limits);
        route(routed);
        return result;
      }),
    { validator: validateTicket },
  );
  setHandler(
    receiveResponseUpdate,
    (input) =>
      counted(() => {
        const { percent, routed } = receiveResponse(state, input, Date.now());
        route(routed);
        return percent;
      }),
    { validator: validateTicket },
  );
  setHandler(
    connectionErrorUpdate,
    (call) =>
      counted(() => {
        if (state.session?.ticketHash === call.ticketHash) {
          state.lastError = `QuickBooks could not be opened (${call.hresult}): ${call.message}`;
          route(endSession(state, state.lastError));
        }
        return 'done';
      }),
    { validator: validateTicket },
  );
  setHandler(
    closeSessionUpdate,
    (call) =>
      counted(() => {
        const { message, routed } = closeSession(state, call.ticketHash);
        route(routed);
        return message;
      }),
    { validator: validateTicket },
  );
  setHandler(lastErrorQuery, (call) =>
    state.session?.ticketHash === call.ticketHash || state.session === null ? state.lastError : '',
  );
  setHandler(companyFileStatusQuery, () => ({
    connection: state.connection,
    queued: state.queue.length,
    inFlight: state.inFlight.length,
    sessionOpen: state.session !== null,
    totals: { ...state.totals },
  }));

  const mustContinueAsNew = (): boolean => {
    const info = workflowInfo();
    return updates >= MAX_UPDATES_PER_RUN || info.continueAsNewSuggested || (info.historySize ?? 0) > MAX_HISTORY_BYTES;
  };

  for (;;) {
    const timeout = state.session
      ? Math.max(1, state.session.lastSeenAtMs + limits.sessionIdleTimeoutMs - Date.now())
      : undefined;
    wake = false;
    if (timeout === undefined) await condition(() => wake);
    else await condition(() => wake, timeout);
    if (sessionExpired(state, Date.now(), limits)) {
      route(endSession(state, 'the QBWC session went silent and expired'));
    }
    if (leave || mustContinueAsNew()) break;
  }
  await condition(allHandlersFinished);
  await Promise.all([...deliveries]);
  await continueAsNew<typeof legacyCompanyFile>({
    connection: state.connection,
    limits: input.limits,
    state,
    cursors,
    choiceNames,
    ownWrites: Object.fromEntries(ownWrites),
  });
}
