import type { RecordGroupEntry, RecordGroupEntryResult } from '../../activities/dataverseListRecords';
import type { SyncSettings } from '../../config/syncSettings';
import type { ChoiceMaps } from '../../mapping/choices';
import { itemToProduct, itemValuesNotCarried, type SyncedItem } from '../../mapping/itemProduct';
import type { OwnershipPolicy } from '../../mapping/ownership';
import { partyRows } from '../../mapping/quickbooksToDynamics';
import { quickbooksVersionOf } from '../../mapping/syncBase';
import type { CustomerRet, VendorRet } from '../../qbxml/requests';
import { dataverse } from './activities';
import { ownershipPolicy } from './quickbooksRecordSync';
import { mappingReasons, type RecordOutcome } from './recordOutcome';

/**
 * A group of QuickBooks records of one poll cycle written into Dynamics together (issue 15): the bulk path of the
 * QuickBooks → Dynamics flow, for the many plain records of an initial load or a large change.
 *
 * Each record's own run (`quickbooksRecordSync`) costs about five Temporal actions and fifteen history events; at an
 * initial load of 10,000 customers the server, not Dataverse, set the pace. Here a group of records costs one child
 * and one activity. The group's history is their audit trail: the QuickBooks versions (input), the rows asked for
 * (activity input) and each row written with its outcome (activity result). `SyncSourceIds` names every record of the
 * group, so `qbsync audit --source <ListID>` and the Web UI (`SyncSourceIds = '<ListID>'`) find it.
 *
 * The group only writes what a record run would have written in its first step, and only keeps what needs nothing
 * more. A record that cannot be mapped, whose write failed, whose version was superseded, or whose merge gave
 * Dynamics' side of a field to QuickBooks (a Mod, then the sync base) is handed back: the batch runs it in its own
 * record workflow, which starts again from the record and finds the row the group wrote.
 */
export interface QuickBooksRecordGroupInput {
  connection: string;
  entity: 'customer' | 'vendor' | 'item';
  records: (CustomerRet | VendorRet | SyncedItem)[];
  settings: SyncSettings;
  choices: ChoiceMaps;
}

export interface GroupedRecordOutcome {
  listId: string;
  outcome: Exclude<RecordOutcome, 'failed'>;
  targetId: string;
  written: string[];
  /** Values Dynamics cannot carry (negative stock): left out and reported, as a record run does. */
  note?: string;
}

export interface QuickBooksRecordGroupResult {
  synced: GroupedRecordOutcome[];
  /** Records the group left to their own record run, with why. */
  toRecordRuns: { listId: string; why: string }[];
}

export async function quickbooksRecordGroup(input: QuickBooksRecordGroupInput): Promise<QuickBooksRecordGroupResult> {
  const toRecordRuns: QuickBooksRecordGroupResult['toRecordRuns'] = [];
  const entries: RecordGroupEntry[] = [];
  const notes = new Map<string, string>();
  const ownership = ownershipPolicy(input.settings);
  for (const record of input.records) {
    const mapped = groupEntry(input, record, ownership);
    if ('unmapped' in mapped) toRecordRuns.push({ listId: record.listId, why: mapped.unmapped });
    else {
      entries.push(mapped.entry);
      if (mapped.note) notes.set(record.listId, mapped.note);
    }
  }
  const answers = entries.length > 0 ? await dataverse.syncRecordGroupToDataverse({ entries }) : [];
  const synced: GroupedRecordOutcome[] = [];
  for (const answer of answers) {
    const left = leftToRecordRun(answer, input.entity);
    if (left !== null) {
      toRecordRuns.push({ listId: answer.listId, why: left });
      continue;
    }
    const result = answer.result!;
    const note = notes.get(answer.listId);
    synced.push({
      listId: answer.listId,
      outcome: result.outcome,
      targetId: result.rowId,
      written: result.written,
      ...(note ? { note } : {}),
    });
  }
  return { synced, toRecordRuns };
}

/** Why a record's answer needs its own record run, or null when the group's write is the whole sync. */
function leftToRecordRun(answer: RecordGroupEntryResult, entity: QuickBooksRecordGroupInput['entity']): string | null {
  if (answer.error !== undefined || !answer.result) return `not written: ${answer.error ?? 'no answer'}`;
  if (answer.result.superseded) return 'its row was agreed at a newer QuickBooks version';
  if (answer.result.quickbooksTarget && entity !== 'vendor') return 'QuickBooks takes Dynamics’ side of a field';
  return null;
}

/** What the record's own run would hand its first activity, mapped the same way, or every broken rule. */
function groupEntry(
  input: QuickBooksRecordGroupInput,
  record: CustomerRet | VendorRet | SyncedItem,
  ownership: OwnershipPolicy,
): { entry: RecordGroupEntry; note?: string } | { unmapped: string } {
  const companyFile = input.connection;
  const common = {
    qbModifiedAt: record.timeModified ?? '',
    quickbooksVersion: quickbooksVersionOf(record),
    refuseSuperseded: true,
    ownership,
  };
  if (input.entity === 'item') {
    const item = record as SyncedItem;
    const desired = itemToProduct(item, { companyFile });
    if (!desired.ok) return { unmapped: mappingReasons(desired.errors) };
    const notCarried = itemValuesNotCarried(item);
    return {
      entry: { listId: item.listId, item: { desired: desired.value, ...common, returnsToQuickBooks: true } },
      ...(notCarried.length > 0 ? { note: notCarried.join('; ') } : {}),
    };
  }
  const rows = partyRows(input.entity, record as CustomerRet | VendorRet, { companyFile, choices: input.choices });
  if (!rows.ok) return { unmapped: mappingReasons(rows.errors) };
  return {
    entry: {
      listId: record.listId,
      party: { ...rows.value, ...common, returnsToQuickBooks: input.entity === 'customer' },
    },
  };
}
