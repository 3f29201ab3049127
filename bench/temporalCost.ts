/**
 * What a phase of `npm run bench` cost in Temporal: history events and actions, counted from the histories themselves.
 *
 * Counted: every workflow execution started in the phase (visibility `StartTime` inside the phase), all of its events;
 * plus the long-lived company-file workflows (`qbfile/<connection>`, every run), only their events stamped inside the
 * phase (their sessions and queue are part of the phase's work although they started earlier).
 *
 * Actions as Temporal Cloud bills them ("Temporal Cloud Actions", docs.temporal.io/cloud/actions), from the events
 * that show them:
 * - a workflow started by a client or by Continue-As-New (a child's start is counted in its parent, below);
 * - a child workflow start: two actions ("Start Child Workflow" and "Child Workflow Execution");
 * - an activity started or retried: each attempt (the started event carries the attempt it was);
 * - local activities: one action per workflow task that recorded any;
 * - a timer started;
 * - a search-attribute upsert: one per command however many attributes it sets, except one setting only
 *   `TemporalChangeVersion` (what `patched()` records); attributes given at start cost nothing;
 * - a signal received (from a client or a workflow), an Update accepted, workflow execution options updated.
 * Workflow tasks are not actions there: they are kept as a count of their own (`workflowTasks`), as the events are.
 * Not in a history, hence not counted: queries, activity heartbeats that reach the server, rejected Updates. A
 * Signal-With-Start is one action in Temporal Cloud and counts two here (a start and a signal).
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActionCounts {
  workflowStarts: number;
  /** Two actions for each child started. */
  childStarts: number;
  /** One for each attempt of each activity. */
  activities: number;
  localActivityTasks: number;
  signals: number;
  timers: number;
  updates: number;
  searchAttributeUpserts: number;
  optionsUpdates: number;
}

export interface PhaseCost {
  workflows: number;
  workflowsByType: Record<string, number>;
  events: number;
  actions: number;
  breakdown: ActionCounts;
  /** Workflow tasks completed: not billed as actions, but each is a round trip between worker and server. */
  workflowTasks: number;
  /** Events and actions per workflow type; the company files' in-phase events under `companyFile`. */
  byType: Record<string, { events: number; actions: number }>;
}

function emptyCounts(): ActionCounts {
  return {
    workflowStarts: 0,
    childStarts: 0,
    activities: 0,
    localActivityTasks: 0,
    signals: 0,
    timers: 0,
    updates: 0,
    searchAttributeUpserts: 0,
    optionsUpdates: 0,
  };
}

const sum = (c: ActionCounts): number => Object.values(c).reduce((a: number, b: number) => a + b, 0);

/** The search attribute `patched()` sets, which Temporal Cloud does not bill. */
const CHANGE_VERSION = 'TemporalChangeVersion';
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/**
 * Adds the actions of one event of a history to `into`; `localActivityTasks` holds the workflow tasks of this history
 * that already recorded a local activity, so the next ones of the same task cost nothing.
 */
export function countEvent(e: HistoryEvent, into: ActionCounts, localActivityTasks: Set<string>): void {
  const started = e.workflowExecutionStartedEventAttributes;
  if (started && (!started.parentWorkflowExecution || started.continuedExecutionRunId)) into.workflowStarts += 1;
  if (e.startChildWorkflowExecutionInitiatedEventAttributes) into.childStarts += 2;
  if (e.activityTaskStartedEventAttributes)
    into.activities += Math.max(1, e.activityTaskStartedEventAttributes.attempt ?? 1);
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
    const task = String(marker.workflowTaskCompletedEventId ?? e.eventId);
    if (!localActivityTasks.has(task)) {
      localActivityTasks.add(task);
      into.localActivityTasks += 1;
    }
  }
  if (e.workflowExecutionSignaledEventAttributes) into.signals += 1;
  if (e.timerStartedEventAttributes) into.timers += 1;
  if (e.workflowExecutionUpdateAcceptedEventAttributes) into.updates += 1;
  const upsert = e.upsertWorkflowSearchAttributesEventAttributes;
  if (upsert) {
    const keys = Object.keys(upsert.searchAttributes?.indexedFields ?? {});
    if (keys.some((k) => k !== CHANGE_VERSION)) into.searchAttributeUpserts += 1;
  }
  if (e.workflowExecutionOptionsUpdatedEventAttributes) into.optionsUpdates += 1;
}

function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  if (!t) return 0;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function mapLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
    }),
  );
}

/** Events and actions of everything started in [fromMs, toMs], plus the company files' events in that window. */
export async function phaseCost(client: Client, fromMs: number, toMs: number): Promise<PhaseCost> {
  const started: { workflowId: string; runId: string; type: string }[] = [];
  const query = `StartTime >= '${iso(fromMs)}' AND StartTime <= '${iso(toMs + 1000)}'`;
  for await (const w of client.workflow.list({ query })) {
    if (w.workflowId.startsWith('qbfile/')) continue;
    started.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
  }
  const companyFiles: { workflowId: string; runId: string }[] = [];
  for await (const w of client.workflow.list({ query: "WorkflowType = 'companyFile'" })) {
    if (!w.closeTime || w.closeTime.getTime() >= fromMs)
      companyFiles.push({ workflowId: w.workflowId, runId: w.runId });
  }

  const breakdown = emptyCounts();
  const workflowsByType: Record<string, number> = {};
  const byType: Record<string, { events: number; actions: number }> = {};
  let events = 0;
  let workflowTasks = 0;
  const add = (type: string, e: HistoryEvent, localActivityTasks: Set<string>): void => {
    const own = emptyCounts();
    countEvent(e, own, localActivityTasks);
    for (const k of Object.keys(own) as (keyof ActionCounts)[]) breakdown[k] += own[k];
    if (e.workflowTaskCompletedEventAttributes) workflowTasks += 1;
    const t = (byType[type] ??= { events: 0, actions: 0 });
    t.events += 1;
    t.actions += sum(own);
    events += 1;
  };
  await mapLimited(started, 8, async ({ workflowId, runId, type }) => {
    workflowsByType[type] = (workflowsByType[type] ?? 0) + 1;
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const localActivityTasks = new Set<string>();
    for (const e of history.events ?? []) add(type, e, localActivityTasks);
  });
  await mapLimited(companyFiles, 4, async ({ workflowId, runId }) => {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const localActivityTasks = new Set<string>();
    for (const e of history.events ?? []) {
      const at = eventMs(e);
      if (at >= fromMs && at <= toMs) add('companyFile', e, localActivityTasks);
    }
  });
  return {
    workflows: started.length,
    workflowsByType,
    events,
    actions: sum(breakdown),
    breakdown,
    workflowTasks,
    byType,
  };
}

/** The time each requester's batches reached a company file's queue (its `enqueueQbxml` signals), with request types. */
export async function enqueueTimes(
  client: Client,
  connection: string,
  fromMs: number,
): Promise<{ requester: string; atMs: number; types: string[] }[]> {
  const { defaultPayloadConverter } = await import('@temporalio/common');
  const found: { requester: string; atMs: number; types: string[] }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = 'qbfile/${connection}'` })) {
    if (w.closeTime && w.closeTime.getTime() < fromMs) continue;
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const signal = e.workflowExecutionSignaledEventAttributes;
      if (!signal || signal.signalName !== 'enqueueQbxml') continue;
      const at = eventMs(e);
      if (at < fromMs) continue;
      const payload = signal.input?.payloads?.[0];
      if (!payload) continue;
      const batch = defaultPayloadConverter.fromPayload<{ requester: string; requests: { type: string }[] }>(payload);
      found.push({ requester: batch.requester, atMs: at, types: batch.requests.map((r) => r.type) });
    }
  }
  return found;
}
