import { ApplicationFailure } from '@temporalio/activity';
import { type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type SyncSettings } from '../config/syncSettings';
import { type DataverseClient } from '../dataverse/client';
import {
  type AlignedChoice,
  choiceOptionsOf,
  insertChoiceOptions,
  readChoiceOptionSet,
} from '../dataverse/choiceOptions';
import { type ChoiceMap, type ChoiceMaps, type ChoiceOption } from '../mapping';
import { parseRecordWorkflowId } from '../mapping/entityRegistry';
import { planFailedRecordRetry, type FailedRecordRun } from '../mapping/failedRecordRetry';
import { sharedCompanyFileQueries } from './companyFileQueries';
import { sharedAnswers } from './sharedAnswers';
import {
  choiceNamesQuery,
  ownWritesQuery,
  type OwnWrites,
  syncCursorsQuery,
  type QuickBooksChoiceNames,
  type SyncCursors,
} from '../workflows/companyFile/messages';

export interface SyncContextDeps {
  client: Client;
  dataverse: DataverseClient;
  /** Every connection this deployment serves, with its settings. */
  settings: ReadonlyMap<string, SyncSettings>;
  /** The clock the failed-record retry plans by (tests move it on). */
  now?: () => Date;
  /**
   * How long a read of the Dynamics choice options answers this worker's record runs (default 60 s; 0: every run
   * reads them). An option the connector adds is seen at once, one a person adds in Dynamics within this bound.
   */
  choiceOptionsMaxAgeMs?: number;
}

export interface SyncContext {
  connection: string;
  settings: SyncSettings;
  choices: ChoiceMaps;
  /** The connection whose company file receives records created in Dynamics, if any. */
  receivingConnection: string | null;
}

/**
 * Context the sync workflows need but must not hold as configuration in their code: the connection's settings and the
 * choice maps, which follow the Dataverse options (configured pairs first, then every option by its label).
 */
export interface PollCycleStart {
  cursors: SyncCursors;
  ownWrites: OwnWrites;
  knownChoiceNames: QuickBooksChoiceNames;
  context: SyncContext;
  options: Record<AlignedChoice, ChoiceOption[]>;
  failedRecords: string[];
}

/** Workflow ids per visibility query (`WorkflowId IN (…)`), and runs looked up at once. */
const WORKFLOW_IDS_PER_QUERY = 100;
const LOOKUPS_AT_ONCE = 16;

/** A keyword as a visibility query literal. */
function keywordLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The choice options as this worker last read them, answering later callers for `maxAgeMs` (issue 15: shared only
 * between callers asking at the same moment, the reads cost 127 requests of the benchmark's initial load of 1,341
 * records). `forget` drops a choice's options at once, and a read sent before it is not kept: the connector's own
 * added options are never hidden by an answer older than their insert.
 */
function keptChoiceOptions(
  read: (kind: AlignedChoice) => Promise<ChoiceOption[]>,
  maxAgeMs: number,
  now: () => number = Date.now,
) {
  const kept = new Map<AlignedChoice, { options: ChoiceOption[]; askedAt: number }>();
  const forgotten = new Map<AlignedChoice, number>();
  /** A read sent now; its answer is kept unless forgotten meanwhile or a later-sent read was kept first. */
  const fresh = async (kind: AlignedChoice): Promise<ChoiceOption[]> => {
    const generation = forgotten.get(kind) ?? 0;
    const askedAt = now();
    const options = await read(kind);
    const held = kept.get(kind);
    if ((forgotten.get(kind) ?? 0) === generation && (!held || held.askedAt <= askedAt)) {
      kept.set(kind, { options, askedAt });
    }
    return options;
  };
  return {
    fresh,
    /** The options kept if they were asked for less than `maxAgeMs` ago, else a read. */
    recent(kind: AlignedChoice): Promise<ChoiceOption[]> {
      const held = kept.get(kind);
      return held && now() - held.askedAt < maxAgeMs ? Promise.resolve(held.options) : fresh(kind);
    },
    forget(kind: AlignedChoice): void {
      kept.delete(kind);
      forgotten.set(kind, (forgotten.get(kind) ?? 0) + 1);
    },
  };
}

export function createSyncContextActivities({
  client,
  dataverse,
  settings,
  now,
  choiceOptionsMaxAgeMs = 60_000,
}: SyncContextDeps) {
  /**
   * The options of a choice Dynamics offers, read once for every activity asking at the same time (each record run
   * loads them with its context: two metadata requests a record, 236 of the benchmark's initial load, before), and
   * kept for `choiceOptionsMaxAgeMs` after. A poll cycle always reads them, so records it runs see what an
   * administrator added before it (`qbsync provision` runs in its own process); the connector's own additions
   * (`addChoiceOptions`) drop what this worker kept.
   */
  const sharedOptions = sharedAnswers(
    async (kind) => choiceOptionsOf(await readChoiceOptionSet(dataverse, kind as AlignedChoice)),
    { what: 'a read of the Dynamics choice options' },
  );
  const options = keptChoiceOptions((kind) => sharedOptions(kind), Math.max(0, choiceOptionsMaxAgeMs));

  /** State the connection's companyFile workflow keeps, asked once for every activity asking at the same time. */
  const queryCompanyFile = sharedCompanyFileQueries(client);

  function settingsOf(connection: string): SyncSettings {
    const found = settings.get(connection);
    if (!found)
      throw ApplicationFailure.nonRetryable(`no connection named "${connection}" is configured`, 'UnknownConnection');
    return found;
  }

  function receivingConnection(): string | null {
    for (const [name, s] of settings) if (s.receivesNewAccounts) return name;
    return null;
  }

  /**
   * The context of a connection from what was read: configured pairs, then the QuickBooks spellings the last poll
   * found, then every other option by its label (`choiceValue` compares without case).
   */
  function contextOf(
    connection: string,
    known: QuickBooksChoiceNames,
    options: Record<AlignedChoice, ChoiceOption[]>,
  ): SyncContext {
    const s = settingsOf(connection);
    const withLabels = (kind: AlignedChoice, configured: ChoiceMap): ChoiceMap => {
      const quickbooksNames: ChoiceMap = { ...known[kind], ...configured };
      const named = new Set(Object.values(quickbooksNames));
      const map: Record<string, number> = {};
      for (const option of options[kind]) if (!named.has(option.value)) map[option.label] = option.value;
      return { ...map, ...quickbooksNames };
    };
    return {
      connection,
      settings: s,
      choices: {
        customerTypes: withLabels('customerTypes', s.choices.customerTypes),
        terms: withLabels('terms', s.choices.terms),
        classes: s.choices.classes,
      },
      receivingConnection: receivingConnection(),
    };
  }

  /**
   * Every record of this connection whose latest run failed, with its consecutive failed runs and its failure's type
   * and flag. Visibility lists each failed run, so a record's runs are counted from the list; runs before its last
   * completed one do not count; the failure itself is read from the latest run's close event (its message stays
   * encrypted: only the type and the flag are needed).
   */
  async function failedRecordRuns(connection: string): Promise<FailedRecordRun[]> {
    const failedAt = new Map<string, Date[]>();
    const query =
      `ExecutionStatus = 'Failed' AND (SyncConnection = ${keywordLiteral(connection)} OR ` +
      `(WorkflowType = 'dataverseRecordSync' AND SyncConnection IS NULL))`;
    for await (const execution of client.workflow.list({ query })) {
      // Only records the sync still handles: a run of a table it no longer syncs is not retried every cycle.
      if (parseRecordWorkflowId(execution.workflowId) === null) continue;
      const times = failedAt.get(execution.workflowId) ?? [];
      times.push(execution.closeTime ?? execution.startTime);
      failedAt.set(execution.workflowId, times);
    }
    const lastCompleted = new Map<string, Date>();
    const ids = [...failedAt.keys()];
    for (let i = 0; i < ids.length; i += WORKFLOW_IDS_PER_QUERY) {
      const chunk = ids
        .slice(i, i + WORKFLOW_IDS_PER_QUERY)
        .map(keywordLiteral)
        .join(', ');
      const completed = `ExecutionStatus = 'Completed' AND WorkflowId IN (${chunk})`;
      for await (const execution of client.workflow.list({ query: completed })) {
        const at = execution.closeTime ?? execution.startTime;
        const known = lastCompleted.get(execution.workflowId);
        if (!known || at > known) lastCompleted.set(execution.workflowId, at);
      }
    }
    const runs: FailedRecordRun[] = [];
    const latestRun = async ([workflowId, times]: [string, Date[]]): Promise<void> => {
      // A list hit can be an older run; only the latest run of each record counts.
      const latest = await client.workflow.getHandle(workflowId).describe();
      if (latest.status.name !== 'FAILED') return;
      const since = lastCompleted.get(workflowId);
      const attempts = times.filter((t) => !since || t > since).length;
      const failure = (await closeEvent(workflowId, latest.runId))?.workflowExecutionFailedEventAttributes?.failure;
      const info = failure?.applicationFailureInfo;
      runs.push({
        workflowId,
        failedAt: (latest.closeTime ?? latest.startTime).toISOString(),
        attempts: Math.max(1, attempts),
        ...(info?.type ? { failureType: info.type } : {}),
        ...(info ? { nonRetryable: info.nonRetryable === true } : {}),
      });
    };
    const records = [...failedAt];
    for (let i = 0; i < records.length; i += LOOKUPS_AT_ONCE) {
      await Promise.all(records.slice(i, i + LOOKUPS_AT_ONCE).map(latestRun));
    }
    return runs;
  }

  async function closeEvent(workflowId: string, runId: string) {
    const response = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    });
    return response.history?.events?.at(-1);
  }

  const activities = {
    async loadSyncContext(input: { connection: string }): Promise<SyncContext> {
      settingsOf(input.connection);
      const [known, customerTypes, terms] = await Promise.all([
        queryCompanyFile<QuickBooksChoiceNames>(input.connection, choiceNamesQuery, {}),
        options.recent('customerTypes'),
        options.recent('terms'),
      ]);
      return contextOf(input.connection, known, { customerTypes, terms });
    },

    /**
     * Everything a poll cycle needs before it reads QuickBooks, in one activity (an idle cycle must stay cheap in
     * Temporal actions): its cursors, settings and choice maps, the Dataverse options to align with, the QuickBooks
     * spellings already known, and the records whose last run failed.
     */
    async beginPollCycle(input: { connection: string }): Promise<PollCycleStart> {
      settingsOf(input.connection);
      const [cursors, ownWrites, known, customerTypes, terms, failed] = await Promise.all([
        queryCompanyFile<SyncCursors>(input.connection, syncCursorsQuery, {}),
        queryCompanyFile<OwnWrites>(input.connection, ownWritesQuery, {}),
        queryCompanyFile<QuickBooksChoiceNames>(input.connection, choiceNamesQuery, {}),
        options.fresh('customerTypes'),
        options.fresh('terms'),
        activities.failedRecordWorkflows(input),
      ]);
      const current = { customerTypes, terms };
      return {
        cursors,
        ownWrites,
        knownChoiceNames: known,
        context: contextOf(input.connection, known, current),
        options: current,
        failedRecords: failed,
      };
    },

    /**
     * The connector's own writes as the company file knows them now. A poll asks again once its read is answered: a
     * write answered after the cycle began (and before its read) is in no earlier view.
     */
    async ownWritesOf(input: { connection: string }): Promise<OwnWrites> {
      return queryCompanyFile<OwnWrites>(input.connection, ownWritesQuery, {});
    },

    /**
     * Adds options for QuickBooks names Dynamics does not offer yet (a label that arrived meanwhile is skipped) and
     * returns the options as they now stand. Under the sync's least-privilege role Dataverse refuses the insert (403):
     * the labels come back as `refused`, the poll goes on, and each record using one fails naming the option and the
     * `qbsync provision` command that adds it.
     */
    async addChoiceOptions(input: {
      kind: AlignedChoice;
      labels: string[];
    }): Promise<{ added: string[]; refused?: string[]; options: ChoiceOption[] }> {
      try {
        const { added, refused, options: standing } = await insertChoiceOptions(dataverse, input.kind, input.labels);
        return { added, ...(refused.length > 0 ? { refused } : {}), options: standing };
      } finally {
        // Also after a failure: an insert may have committed before its answer was lost.
        options.forget(input.kind);
      }
    },

    /**
     * Record workflows of this connection whose latest run failed and are due to run again (the plan is
     * `mapping/failedRecordRetry.ts`'s): the poll cycle runs them, so a record that failed on an outage completes
     * without anyone resetting it. Dynamics rows handed off before the poll gave its runs their connection are found
     * too (a failed `dataverseRecordSync` run with no connection): the poll that runs them again gives them its own.
     */
    async failedRecordWorkflows(input: { connection: string; limit?: number }): Promise<string[]> {
      const runs = await failedRecordRuns(input.connection);
      return planFailedRecordRetry(runs, { now: now?.() ?? new Date(), ...(input.limit ? { limit: input.limit } : {}) })
        .retry;
    },
  };
  return activities;
}

export type SyncContextActivities = ReturnType<typeof createSyncContextActivities>;
