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
