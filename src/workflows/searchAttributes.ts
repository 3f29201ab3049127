import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The audit trail is queried through these. They are registered on the server at start-up
 * (`temporal server start-dev --search-attribute ...` or `temporal operator search-attribute create`).
 */
export const syncConnection = defineSearchAttributeKey('SyncConnection', SearchAttributeType.KEYWORD);
export const syncEntity = defineSearchAttributeKey('SyncEntity', SearchAttributeType.KEYWORD);
export const syncSourceId = defineSearchAttributeKey('SyncSourceId', SearchAttributeType.KEYWORD);
export const syncTargetId = defineSearchAttributeKey('SyncTargetId', SearchAttributeType.KEYWORD);
export const syncOutcome = defineSearchAttributeKey('SyncOutcome', SearchAttributeType.KEYWORD);
/**
 * The QuickBooks ListIDs a record group synced together (`quickbooksRecordGroup`): `SyncSourceIds = '<ListID>'` finds
 * the group that holds a record's trail, as `SyncSourceId` finds a record's own run.
 */
export const syncSourceIds = defineSearchAttributeKey('SyncSourceIds', SearchAttributeType.KEYWORD_LIST);

/** Name → type, as the server and the CLI want them. */
export const searchAttributeRegistrations: Record<string, 'Keyword' | 'KeywordList'> = {
  SyncConnection: 'Keyword',
  SyncEntity: 'Keyword',
  SyncSourceId: 'Keyword',
  SyncTargetId: 'Keyword',
  SyncOutcome: 'Keyword',
  SyncSourceIds: 'KeywordList',
};
