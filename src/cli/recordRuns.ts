import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { type DataConverter, defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { needsFix } from '../mapping/failedRecordRetry';
import { syncConnection, syncEntity, syncOutcome, syncSourceId, syncTargetId } from '../workflows/searchAttributes';
import { queryLiteral } from './temporalSession';

/**
 * The record workflows' runs as the operator sees them: who they are (search attributes), how they ended, and what
 * their history says, with payloads decrypted by the connector's codec.
 */

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
export type HistoryEvent = NonNullable<History['events']>[number];
type ProtoFailure = NonNullable<NonNullable<HistoryEvent['workflowExecutionFailedEventAttributes']>['failure']>;
type EventNumber = NonNullable<HistoryEvent['eventId']>;

/** `qb/<connection>/<entity>/<id>` and `d365/<entity>/<id>`: the workflows whose history is a record's audit trail. */
export function isRecordWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith('qb/') || workflowId.startsWith('d365/');
}

/**
 * The workflow type of a record group (`workflows/sync/quickbooksRecordGroup.ts`): many QuickBooks records written
 * together, its history their shared audit trail. A group is not a record's run: it never stands for a failed record
 * (a record the group could not finish gets its own run), so only the audit looks at it.
 */
export const RECORD_GROUP_TYPE = 'quickbooksRecordGroup';

function eventNumber(value: EventNumber | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Decodes payloads the way the worker encoded them; a payload the key ring cannot open is reported, not fatal. */
export class PayloadReader {
  private readonly codecs: PayloadCodec[];

  constructor(dataConverter: DataConverter | undefined) {
    // Codecs encode in order, so they decode in reverse.
    this.codecs = [...(dataConverter?.payloadCodecs ?? [])].reverse();
  }

  async values(payloads: readonly Payload[] | null | undefined): Promise<unknown[]> {
    if (!payloads || payloads.length === 0) return [];
    try {
      let decoded: Payload[] = [...payloads];
      for (const codec of this.codecs) decoded = await codec.decode(decoded);
      return decoded.map((p) => defaultPayloadConverter.fromPayload(p));
    } catch (error) {
      return payloads.map(() => ({ undecodable: error instanceof Error ? error.message : String(error) }));
    }
  }

  async value(payloads: readonly Payload[] | null | undefined): Promise<unknown> {
    const [first] = await this.values(payloads);
    return first;
  }

  /** The failure's own words, then its causes': "order cannot be synced: … ← item not found". */
  async failureMessage(failure: ProtoFailure | null | undefined): Promise<string | undefined> {
    if (!failure) return undefined;
    const parts: string[] = [];
    for (let f: ProtoFailure | null | undefined = failure; f && parts.length < 5; f = f.cause) {
      let message = f.message ?? '';
      // With encodeCommonAttributes the message travels encrypted inside encodedAttributes.
      if (f.encodedAttributes) {
        const attributes = await this.value([f.encodedAttributes]);
        if (attributes && typeof attributes === 'object' && 'message' in attributes) {
          message = String((attributes as { message: unknown }).message);
        }
      }
      if (message && !parts.includes(message)) parts.push(message);
    }
    return parts.join(' ← ') || undefined;
  }
}

/** What the search attributes say about one run, falling back on the workflow ID where an attribute was never set. */
export interface RecordIdentity {
  workflowId: string;
  runId: string;
  connection?: string;
  entity?: string;
  sourceId?: string;
  targetId?: string;
  outcome?: string;
}

export function recordIdentity(
  info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'typedSearchAttributes'>,
): RecordIdentity {
  const parts = info.workflowId.split('/');
  const fromId =
    parts[0] === 'qb'
      ? { connection: parts[1], entity: parts[2], sourceId: parts.slice(3).join('/') }
      : { connection: undefined, entity: parts[1], sourceId: parts.slice(2).join('/') };
  const attrs = info.typedSearchAttributes;
  const identity: RecordIdentity = { workflowId: info.workflowId, runId: info.runId };
  const connection = attrs.get(syncConnection) ?? fromId.connection;
  const entity = attrs.get(syncEntity) ?? fromId.entity;
  const sourceId = attrs.get(syncSourceId) ?? fromId.sourceId;
  const targetId = attrs.get(syncTargetId);
  const outcome = attrs.get(syncOutcome);
  if (connection) identity.connection = connection;
  if (entity) identity.entity = entity;
  if (sourceId) identity.sourceId = sourceId;
  if (targetId) identity.targetId = targetId;
  if (outcome) identity.outcome = outcome;
  return identity;
}

export interface RunFilter {
  connection?: string;
  /** Record groups too (`RECORD_GROUP_TYPE`), as `sourceId` always takes them: the audit and its export. */
  withGroups?: boolean;
  workflowId?: string;
  sourceId?: string;
  /** Only runs that closed after this instant (which leaves running ones out). */
  closedAfter?: Date;
  status?: 'Failed';
  /**
   * With `connection`: runs that carry no connection yet count too. A Dynamics row's run learns its company file from
   * the row, and polls before the one that set it at the start left it unset on runs that failed before that.
   */
  withUnknownConnection?: boolean;
}

export function recordRunsQuery(filter: RunFilter): string {
  const clauses: string[] = [];
  if (filter.workflowId) clauses.push(`WorkflowId = ${queryLiteral(filter.workflowId)}`);
  if (filter.sourceId) {
    // A record written by a group has no run of its own: the group names it among its `SyncSourceIds`.
    const id = queryLiteral(filter.sourceId);
    clauses.push(`(SyncSourceId = ${id} OR SyncSourceIds = ${id})`);
  }
  if (filter.connection) {
    const connection = `SyncConnection = ${queryLiteral(filter.connection)}`;
    clauses.push(filter.withUnknownConnection ? `(${connection} OR SyncConnection IS NULL)` : connection);
  }
  if (filter.status) clauses.push(`ExecutionStatus = ${queryLiteral(filter.status)}`);
  if (filter.closedAfter) clauses.push(`CloseTime > ${queryLiteral(filter.closedAfter.toISOString())}`);
  return clauses.join(' AND ');
}

/**
 * Runs of record workflows matching the filter, every run of a workflow ID (not only its latest), newest first; with
 * a source id or `withGroups`, the record groups' runs too.
 */
export async function* recordRuns(client: Client, filter: RunFilter): AsyncGenerator<WorkflowExecutionInfo> {
  const query = recordRunsQuery(filter);
  const groups = filter.withGroups === true || filter.sourceId !== undefined;
  for await (const info of client.workflow.list(query ? { query } : {})) {
    if (isRecordWorkflowId(info.workflowId) || (groups && info.type === RECORD_GROUP_TYPE)) yield info;
  }
}

/**
 * A record group's trail cut down to one of its records (`listId`): its QuickBooks version in the input, its row in
 * each activity's input and answer, and its outcome in the result. Entries are recognised by their `listId`.
 */
export function groupTrailOfRecord(trail: RunTrail, listId: string): RunTrail {
  const ofRecord = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(ofRecord).filter((v) => v !== undefined);
    if (value && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      if ('listId' in value) return (value as { listId: unknown }).listId === listId ? value : undefined;
      return Object.fromEntries(entries.map(([k, v]) => [k, Array.isArray(v) ? ofRecord(v) : v]));
    }
    return value;
  };
  return {
    ...trail,
    input: trail.input.map(ofRecord),
    ...(trail.result === undefined ? {} : { result: ofRecord(trail.result) }),
    activities: trail.activities.map((a) => (a.result === undefined ? a : { ...a, result: ofRecord(a.result) })),
  };
}

export interface FailedRecord extends RecordIdentity {
  workflowType: string;
  closeTime?: string;
  failure?: string;
  /** True when only a fix (then a change to the record, or a replay) makes it run again; else the poll retries it. */
  waitsForFix: boolean;
}

// HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: the server sends only the run's last event, not its whole history.
const CLOSE_EVENT_ONLY = 2;

async function closeEvent(client: Client, workflowId: string, runId: string): Promise<HistoryEvent | undefined> {
  const response = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    historyEventFilterType: CLOSE_EVENT_ONLY,
  });
  return response.history?.events?.at(-1) ?? undefined;
}

/** The failed runs `qbsync failed` and `replay --all-failed` look at: a connection's own and those with none yet. */
export function failedRunsFilter(filter: Pick<RunFilter, 'connection' | 'closedAfter'>): RunFilter {
  return { ...filter, status: 'Failed', ...(filter.connection ? { withUnknownConnection: true } : {}) };
}

/**
 * Record workflows whose latest run failed. Visibility lists every failed run, including ones a later replay or poll
 * has since superseded, so each workflow's latest run is checked before it is reported.
 */
export async function failedRecords(
  client: Client,
  reader: PayloadReader,
  filter: Pick<RunFilter, 'connection' | 'closedAfter'> & { limit: number },
): Promise<FailedRecord[]> {
  const seen = new Set<string>();
  const failed: FailedRecord[] = [];
  for await (const info of recordRuns(client, failedRunsFilter(filter))) {
    if (seen.has(info.workflowId)) continue;
    seen.add(info.workflowId);
    const latest = await client.workflow.getHandle(info.workflowId).describe();
    if (latest.status.name !== 'FAILED') continue;
    const last = await closeEvent(client, latest.workflowId, latest.runId);
    const failureEvent = last?.workflowExecutionFailedEventAttributes?.failure;
    const failure = await reader.failureMessage(failureEvent);
    const failureInfo = failureEvent?.applicationFailureInfo;
    failed.push({
      ...recordIdentity(latest),
      workflowType: latest.type,
      ...(latest.closeTime ? { closeTime: latest.closeTime.toISOString() } : {}),
      ...(failure ? { failure } : {}),
      waitsForFix: needsFix({
        ...(failureInfo?.type ? { failureType: failureInfo.type } : {}),
        ...(failureInfo ? { nonRetryable: failureInfo.nonRetryable === true } : {}),
      }),
    });
    if (failed.length >= filter.limit) break;
  }
  return failed.sort((a, b) => (a.closeTime ?? '').localeCompare(b.closeTime ?? ''));
}

export interface ActivityStep {
  activityType: string;
  status: 'completed' | 'failed' | 'timed out' | 'cancelled' | 'not finished';
  attempt?: number;
  result?: unknown;
  failure?: string;
}

/** What one run's history says: its input, its end, the activities it ran and, for a replayed run, where it came from. */
export interface RunTrail {
  input: unknown[];
  result?: unknown;
  failure?: string;
  /** Set on a run made by a reset: the run it replaced and the operator's reason. */
  resetFrom?: { runId: string; reason?: string };
  activities: ActivityStep[];
  signals: string[];
}

export async function runTrail(
  client: Client,
  reader: PayloadReader,
  workflowId: string,
  runId: string,
): Promise<RunTrail> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const trail: RunTrail = { input: [], activities: [], signals: [] };
  const byScheduledEvent = new Map<number, ActivityStep>();
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) trail.input = await reader.values(started.input?.payloads);

    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const step: ActivityStep = { activityType: scheduled.activityType?.name ?? '?', status: 'not finished' };
      byScheduledEvent.set(eventNumber(event.eventId), step);
      trail.activities.push(step);
    }
    const completed = event.activityTaskCompletedEventAttributes;
    const completedStep = completed && byScheduledEvent.get(eventNumber(completed.scheduledEventId));
    if (completed && completedStep) {
      completedStep.status = 'completed';
      completedStep.result = await reader.value(completed.result?.payloads);
    }
    const activityFailed = event.activityTaskFailedEventAttributes;
    const failedStep = activityFailed && byScheduledEvent.get(eventNumber(activityFailed.scheduledEventId));
    if (activityFailed && failedStep) {
      failedStep.status = 'failed';
      const failure = await reader.failureMessage(activityFailed.failure);
      if (failure) failedStep.failure = failure;
    }
    const timedOut = event.activityTaskTimedOutEventAttributes;
    const timedOutStep = timedOut && byScheduledEvent.get(eventNumber(timedOut.scheduledEventId));
    if (timedOutStep) timedOutStep.status = 'timed out';
    const cancelled = event.activityTaskCanceledEventAttributes;
    const cancelledStep = cancelled && byScheduledEvent.get(eventNumber(cancelled.scheduledEventId));
    if (cancelledStep) cancelledStep.status = 'cancelled';
    const activityStarted = event.activityTaskStartedEventAttributes;
    const startedStep = activityStarted && byScheduledEvent.get(eventNumber(activityStarted.scheduledEventId));
    if (activityStarted && startedStep && activityStarted.attempt) startedStep.attempt = activityStarted.attempt;

    const signalled = event.workflowExecutionSignaledEventAttributes;
    if (signalled?.signalName) trail.signals.push(signalled.signalName);

    // A reset leaves a failed workflow task naming the run it forked from, with the operator's reason as its message.
    const taskFailed = event.workflowTaskFailedEventAttributes;
    if (taskFailed?.baseRunId && taskFailed.newRunId === runId) {
      const reason = taskFailed.failure?.message ?? undefined;
      trail.resetFrom = { runId: taskFailed.baseRunId, ...(reason ? { reason } : {}) };
    }

    const done = event.workflowExecutionCompletedEventAttributes;
    if (done) trail.result = await reader.value(done.result?.payloads);
    const failedRun = event.workflowExecutionFailedEventAttributes;
    if (failedRun) {
      const failure = await reader.failureMessage(failedRun.failure);
      if (failure) trail.failure = failure;
    }
    const terminated = event.workflowExecutionTerminatedEventAttributes;
    if (terminated) trail.failure = `terminated${terminated.reason ? `: ${terminated.reason}` : ''}`;
    if (event.workflowExecutionTimedOutEventAttributes) trail.failure = 'timed out';
    if (event.workflowExecutionCanceledEventAttributes) trail.failure = 'cancelled';
  }
  return trail;
}

/** The first completed workflow task: resetting there re-runs the whole sync, as `--type FirstWorkflowTask` does. */
export async function firstWorkflowTaskCompleted(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<EventNumber | undefined> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 50,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    const found = page.history?.events?.find((e) => e.workflowTaskCompletedEventAttributes);
    if (found?.eventId) return found.eventId;
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return undefined;
}

/** A value short enough for one terminal line. */
export function summarize(value: unknown, width = 100): string {
  if (value === undefined) return '-';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
