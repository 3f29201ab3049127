import { ApplicationFailure } from '@temporalio/activity';
import { type Client } from '@temporalio/client';
import { type SyncSettings } from '../config/syncSettings';
import { type DataverseClient } from '../dataverse/client';
import { type ChoiceMap, type ChoiceMaps, type ChoiceOption, choiceLabelKey } from '../mapping';
import { parseRecordWorkflowId } from '../mapping/entityRegistry';
import { sharedCompanyFileQueries } from './companyFileQueries';
import {
  choiceNamesQuery,
  ownWritesQuery,
  type OwnWrites,
  syncCursorsQuery,
  type QuickBooksChoiceNames,
  type SyncCursors,
} from '../workflows/companyFile/messages';

/** The Dataverse choices QuickBooks lists map to: option set path and the QuickBooks list that feeds it. */
export const CHOICE_COLUMNS = {
  customerTypes: { table: 'account', column: 'accountcategorycode' },
  terms: { table: 'account', column: 'paymenttermscode' },
} as const;
export type AlignedChoice = keyof typeof CHOICE_COLUMNS;

export interface SyncContextDeps {
  client: Client;
  dataverse: DataverseClient;
  /** Every connection this deployment serves, with its settings. */
  settings: ReadonlyMap<string, SyncSettings>;
}

export interface SyncContext {
  connection: string;
  settings: SyncSettings;
  choices: ChoiceMaps;
  /** The connection whose company file receives records created in Dynamics, if any. */
  receivingConnection: string | null;
}

interface OptionSetBody {
  OptionSet?: {
    Name?: string;
    IsGlobal?: boolean;
    Options?: Array<{ Value?: number; Label?: { UserLocalizedLabel?: { Label?: string } | null } }>;
  };
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

export function createSyncContextActivities({ client, dataverse, settings }: SyncContextDeps) {
  async function readOptionSet(kind: AlignedChoice): Promise<NonNullable<OptionSetBody['OptionSet']>> {
    const { table, column } = CHOICE_COLUMNS[kind];
    const res = await dataverse.execute(
      'GET',
      `EntityDefinitions(LogicalName='${table}')/Attributes(LogicalName='${column}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`,
      { query: '$select=LogicalName&$expand=OptionSet($select=Name,IsGlobal,Options)' },
    );
    return (res.body as OptionSetBody).OptionSet ?? {};
  }

  function optionsOf(optionSet: OptionSetBody['OptionSet']): ChoiceOption[] {
    return (optionSet?.Options ?? [])
      .filter((o) => typeof o.Value === 'number')
      .map((o) => ({ value: o.Value!, label: o.Label?.UserLocalizedLabel?.Label ?? String(o.Value) }));
  }

  async function readOptions(kind: AlignedChoice): Promise<ChoiceOption[]> {
    return optionsOf(await readOptionSet(kind));
  }

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

  const activities = {
    async loadSyncContext(input: { connection: string }): Promise<SyncContext> {
      settingsOf(input.connection);
      const [known, customerTypes, terms] = await Promise.all([
        queryCompanyFile<QuickBooksChoiceNames>(input.connection, choiceNamesQuery, {}),
        readOptions('customerTypes'),
        readOptions('terms'),
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
        readOptions('customerTypes'),
        readOptions('terms'),
        activities.failedRecordWorkflows(input),
      ]);
      const options = { customerTypes, terms };
      return {
        cursors,
        ownWrites,
        knownChoiceNames: known,
        context: contextOf(input.connection, known, options),
        options,
        failedRecords: failed,
      };
    },

    /**
     * Adds options for QuickBooks names Dynamics does not offer yet (a label that arrived meanwhile is skipped) and
     * returns the options as they now stand.
     */
    async addChoiceOptions(input: {
      kind: AlignedChoice;
      labels: string[];
    }): Promise<{ added: string[]; options: ChoiceOption[] }> {
      const { table, column } = CHOICE_COLUMNS[input.kind];
      const optionSet = await readOptionSet(input.kind);
      // A global choice (payment terms is shared by accounts, orders and invoices) is extended by its own name.
      const target =
        optionSet.IsGlobal && optionSet.Name
          ? { OptionSetName: optionSet.Name }
          : { EntityLogicalName: table, AttributeLogicalName: column };
      const existing = new Set(optionsOf(optionSet).map((o) => choiceLabelKey(o.label)));
      const added: string[] = [];
      for (const label of input.labels) {
        if (existing.has(choiceLabelKey(label))) continue;
        await dataverse.execute('POST', 'InsertOptionValue', {
          body: {
            ...target,
            Label: { LocalizedLabels: [{ Label: label, LanguageCode: 1033 }] },
          },
        });
        existing.add(choiceLabelKey(label));
        added.push(label);
      }
      return { added, options: added.length > 0 ? await readOptions(input.kind) : optionsOf(optionSet) };
    },

    /**
     * Record workflows of this connection whose latest run failed: the poll cycle runs them again, so a record that
     * failed for a reason since fixed (a missing item now added) completes without anyone resetting it.
     */
    async failedRecordWorkflows(input: { connection: string; limit?: number }): Promise<string[]> {
      const ids = new Set<string>();
      const query = `SyncConnection = '${input.connection.replace(/'/g, "\\'")}' AND ExecutionStatus = 'Failed'`;
      for await (const execution of client.workflow.list({ query })) {
        // Only records the sync still handles: a run of a table it no longer syncs is not retried every cycle.
        if (parseRecordWorkflowId(execution.workflowId) !== null) ids.add(execution.workflowId);
        if (ids.size >= (input.limit ?? 200)) break;
      }
      const stillFailed: string[] = [];
      for (const id of ids) {
        // A list hit can be an older run; only the latest run of each record counts.
        const latest = await client.workflow.getHandle(id).describe();
        if (latest.status.name === 'FAILED') stillFailed.push(id);
      }
      return stillFailed;
    },
  };
  return activities;
}

export type SyncContextActivities = ReturnType<typeof createSyncContextActivities>;
