/**
 * What a phase of `npm run bench` cost in Temporal: history events and actions, counted from the histories themselves.
 *
 * Counted: every workflow execution started in the phase (visibility `StartTime` inside the phase), all of its events;
 * plus the long-lived company-file workflows (`qbfile/<connection>`, every run), only their events stamped inside the
 * phase (their sessions and queue are part of the phase's work although they started earlier).
 *
 * Actions, per event: a workflow started by a client (a child's start is counted once, in its parent, as a child
 * start), a workflow task completed, an activity scheduled, a child workflow start initiated, a signal received, a
 * timer started, an Update accepted (one per QBWC SOAP call), a search-attribute upsert.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActionCounts {
  workflowStarts: number;
  workflowTasks: number;
  activities: number;
  childStarts: number;
  signals: number;
  timers: number;
  updates: number;
  searchAttributeUpserts: number;
}

export interface PhaseCost {
  workflows: number;
  workflowsByType: Record<string, number>;
  events: number;
  actions: number;
  breakdown: ActionCounts;
  /** Events and actions per workflow type; the company files' in-phase events under `companyFile`. */
  byType: Record<string, { events: number; actions: number }>;
}

function emptyCounts(): ActionCounts {
  return {
    workflowStarts: 0,
    workflowTasks: 0,
    activities: 0,
    childStarts: 0,
    signals: 0,
    timers: 0,
    updates: 0,
    searchAttributeUpserts: 0,
  };
}

const sum = (c: ActionCounts): number => Object.values(c).reduce((a: number, b: number) => a + b, 0);

function countEvent(e: HistoryEvent, into: ActionCounts): void {
  if (e.workflowExecutionStartedEventAttributes && !e.workflowExecutionStartedEventAttributes.parentWorkflowExecution)
    into.workflowStarts += 1;
  if (e.workflowTaskCompletedEventAttributes) into.workflowTasks += 1;
  if (e.activityTaskScheduledEventAttributes) into.activities += 1;
  if (e.startChildWorkflowExecutionInitiatedEventAttributes) into.childStarts += 1;
  if (e.workflowExecutionSignaledEventAttributes) into.signals += 1;
  if (e.timerStartedEventAttributes) into.timers += 1;
  if (e.workflowExecutionUpdateAcceptedEventAttributes) into.updates += 1;
  if (e.upsertWorkflowSearchAttributesEventAttributes) into.searchAttributeUpserts += 1;
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
  const add = (type: string, e: HistoryEvent): void => {
    const own = emptyCounts();
    countEvent(e, own);
    countEvent(e, breakdown);
    const t = (byType[type] ??= { events: 0, actions: 0 });
    t.events += 1;
    t.actions += sum(own);
    events += 1;
  };
  await mapLimited(started, 8, async ({ workflowId, runId, type }) => {
    workflowsByType[type] = (workflowsByType[type] ?? 0) + 1;
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    for (const e of history.events ?? []) add(type, e);
  });
  await mapLimited(companyFiles, 4, async ({ workflowId, runId }) => {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    for (const e of history.events ?? []) {
      const at = eventMs(e);
      if (at >= fromMs && at <= toMs) add('companyFile', e);
    }
  });
  return { workflows: started.length, workflowsByType, events, actions: sum(breakdown), breakdown, byType };
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
