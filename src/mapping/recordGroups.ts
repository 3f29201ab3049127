import { utf8Bytes } from './payloadBytes';

/**
 * How a poll's batch of QuickBooks records is cut into record groups (`workflows/sync/quickbooksRecordGroup.ts`).
 * Pure: the batch workflow calls it, and it decides which records travel together.
 */

/**
 * The largest `SyncSourceIds` a group carries, in characters of its ListIDs as a JSON list: Temporal refuses a search
 * attribute value above 2 KB by default (`limit.searchAttributesSizeOfValue`; the dev server took 80 ListIDs, 1,761
 * characters, and refused 100, 2,201), and a group that could not start would leave every record to its own run.
 */
export const GROUP_SOURCE_IDS_AT_MOST = 1_600;

/** The records in groups whose ListIDs fit one `SyncSourceIds` value, in their order. */
export function recordGroups<R extends { listId: string }>(records: readonly R[]): R[][] {
  const groups: R[][] = [];
  let group: R[] = [];
  let size = 2;
  for (const record of records) {
    const grows = JSON.stringify(record.listId).length + 1;
    if (group.length > 0 && size + grows > GROUP_SOURCE_IDS_AT_MOST) {
      groups.push(group);
      group = [];
      size = 2;
    }
    group.push(record);
    size += grows;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Records a poll hands one batch workflow at most: its history stays near 1,500 events. */
export const BATCH_RECORDS_AT_MOST = 500;

/**
 * The bytes of records (as JSON, UTF-8) a batch workflow's input carries at most. Temporal refuses a payload above
 * 2 MB (`limit.blobSize.error`), and a poll cycle whose batch cannot start never gets past it: 500 customers of 4 KB,
 * long notes and addresses, are 2 MB. 1 MB leaves room for the batch's settings and choices beside its records.
 */
export const BATCH_BYTES_AT_MOST = 1_000_000;

/**
 * How many of `records`, from index `from`, make the next batch: at most `BATCH_RECORDS_AT_MOST`, and no more than fit
 * `BATCH_BYTES_AT_MOST` (a record larger alone still goes, alone: QuickBooks answered it within one Update, so it is
 * well under Temporal's limit). Pure: the poll cycle calls it, and it reads only the records it may take.
 */
export function recordBatchLength(records: readonly unknown[], from = 0): number {
  let bytes = 2;
  const most = Math.min(records.length - from, BATCH_RECORDS_AT_MOST);
  for (let taken = 0; taken < most; taken += 1) {
    bytes += utf8Bytes(JSON.stringify(records[from + taken])) + 1;
    if (bytes > BATCH_BYTES_AT_MOST) return Math.max(1, taken);
  }
  return most;
}
