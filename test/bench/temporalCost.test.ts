import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { temporal } from '@temporalio/proto';
import { countEvent, type ActionCounts } from '../../bench/temporalCost';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const keyword = (value: string): temporal.api.common.v1.IPayload => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

/** Events written as plain objects, numbers as numbers (the proto's own conversion makes its 64-bit ids). */
function actionsOf(objects: Record<string, unknown>[]): ActionCounts {
  const events: HistoryEvent[] = objects.map((o) => temporal.api.history.v1.HistoryEvent.fromObject(o));
  const counts: ActionCounts = {
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
  const tasks = new Set<string>();
  for (const e of events) countEvent(e, counts, tasks);
  return counts;
}

describe('Temporal actions as Temporal Cloud bills them', () => {
  it('workflow tasks cost nothing; a child start costs two; each activity attempt costs one', () => {
    const counts = actionsOf([
      { eventId: 1, workflowExecutionStartedEventAttributes: {} },
      { eventId: 2, workflowTaskScheduledEventAttributes: {} },
      { eventId: 3, workflowTaskStartedEventAttributes: {} },
      { eventId: 4, workflowTaskCompletedEventAttributes: {} },
      { eventId: 5, startChildWorkflowExecutionInitiatedEventAttributes: {} },
      { eventId: 6, activityTaskScheduledEventAttributes: {} },
      { eventId: 7, activityTaskStartedEventAttributes: { attempt: 3 } },
      { eventId: 8, workflowTaskCompletedEventAttributes: {} },
    ]);
    assert.deepEqual(
      { starts: counts.workflowStarts, children: counts.childStarts, activities: counts.activities },
      { starts: 1, children: 2, activities: 3 },
    );
  });

  it("a child's own start and a patch's TemporalChangeVersion upsert cost nothing; an upsert of several attributes one", () => {
    const counts = actionsOf([
      { eventId: 1, workflowExecutionStartedEventAttributes: { parentWorkflowExecution: { workflowId: 'parent' } } },
      {
        eventId: 5,
        upsertWorkflowSearchAttributesEventAttributes: {
          searchAttributes: { indexedFields: { TemporalChangeVersion: keyword('a-patch') } },
        },
      },
      {
        eventId: 9,
        upsertWorkflowSearchAttributesEventAttributes: {
          searchAttributes: { indexedFields: { SyncOutcome: keyword('created'), SyncTargetId: keyword('id') } },
        },
      },
    ]);
    assert.equal(counts.workflowStarts, 0);
    assert.equal(counts.searchAttributeUpserts, 1);
  });

  it('local activities of one workflow task cost one action together', () => {
    const marker = (eventId: number, task: number): Record<string, unknown> => ({
      eventId,
      markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: task },
    });
    const counts = actionsOf([marker(5, 4), marker(6, 4), marker(10, 9)]);
    assert.equal(counts.localActivityTasks, 2);
  });

  it('signals, timers, accepted updates and options updates cost one each', () => {
    const counts = actionsOf([
      { eventId: 1, workflowExecutionSignaledEventAttributes: {} },
      { eventId: 2, timerStartedEventAttributes: {} },
      { eventId: 3, workflowExecutionUpdateAcceptedEventAttributes: {} },
      { eventId: 4, workflowExecutionOptionsUpdatedEventAttributes: {} },
    ]);
    assert.deepEqual([counts.signals, counts.timers, counts.updates, counts.optionsUpdates], [1, 1, 1, 1]);
  });
});
