import { choiceLabelKey, type ChoiceOption } from '../mapping/choiceAlignment';
import { type DataverseClient } from './client';
import { DataverseError } from './errors';

/** The Dataverse choices QuickBooks lists map to: option set path and the QuickBooks list that feeds it. */
export const CHOICE_COLUMNS = {
  customerTypes: { table: 'account', column: 'accountcategorycode' },
  terms: { table: 'account', column: 'paymenttermscode' },
} as const;
export type AlignedChoice = keyof typeof CHOICE_COLUMNS;

interface OptionSetBody {
  OptionSet?: {
    Name?: string;
    IsGlobal?: boolean;
    Options?: Array<{ Value?: number; Label?: { UserLocalizedLabel?: { Label?: string } | null } }>;
  };
}
export type ChoiceOptionSet = NonNullable<OptionSetBody['OptionSet']>;

export async function readChoiceOptionSet(client: DataverseClient, kind: AlignedChoice): Promise<ChoiceOptionSet> {
  const { table, column } = CHOICE_COLUMNS[kind];
  const res = await client.execute(
    'GET',
    `EntityDefinitions(LogicalName='${table}')/Attributes(LogicalName='${column}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`,
    { query: '$select=LogicalName&$expand=OptionSet($select=Name,IsGlobal,Options)' },
  );
  return (res.body as OptionSetBody).OptionSet ?? {};
}

export function choiceOptionsOf(optionSet: ChoiceOptionSet | undefined): ChoiceOption[] {
  return (optionSet?.Options ?? [])
    .filter((o) => typeof o.Value === 'number')
    .map((o) => ({ value: o.Value!, label: o.Label?.UserLocalizedLabel?.Label ?? String(o.Value) }));
}

export interface ChoiceOptionsInserted {
  added: string[];
  /**
   * Labels Dataverse refused to add because the caller's role lacks the option-set privilege (403: the sync's
   * least-privilege role never has it); `qbsync provision` adds them under an administrator's role.
   */
  refused: string[];
  /** The options as they now stand. */
  options: ChoiceOption[];
}

/**
 * Adds an option for each label the choice does not offer yet (compared as `choiceLabelKey` compares them, so a
 * label that arrived meanwhile is skipped) through `InsertOptionValue`, which needs `prvWriteOptionSet`.
 */
export async function insertChoiceOptions(
  client: DataverseClient,
  kind: AlignedChoice,
  labels: readonly string[],
): Promise<ChoiceOptionsInserted> {
  const { table, column } = CHOICE_COLUMNS[kind];
  const optionSet = await readChoiceOptionSet(client, kind);
  // A global choice (payment terms is shared by accounts, orders and invoices) is extended by its own name.
  const target =
    optionSet.IsGlobal && optionSet.Name
      ? { OptionSetName: optionSet.Name }
      : { EntityLogicalName: table, AttributeLogicalName: column };
  const existing = new Set(choiceOptionsOf(optionSet).map((o) => choiceLabelKey(o.label)));
  const added: string[] = [];
  const refused: string[] = [];
  for (const label of labels) {
    if (existing.has(choiceLabelKey(label))) continue;
    // Once refused for want of the privilege, every further label would be too.
    if (refused.length > 0) {
      refused.push(label);
      continue;
    }
    try {
      await client.execute('POST', 'InsertOptionValue', {
        body: { ...target, Label: { LocalizedLabels: [{ Label: label, LanguageCode: 1033 }] } },
      });
    } catch (error) {
      if (error instanceof DataverseError && error.status === 403) {
        refused.push(label);
        continue;
      }
      throw error;
    }
    existing.add(choiceLabelKey(label));
    added.push(label);
  }
  return {
    added,
    refused,
    options: added.length > 0 ? choiceOptionsOf(await readChoiceOptionSet(client, kind)) : choiceOptionsOf(optionSet),
  };
}
