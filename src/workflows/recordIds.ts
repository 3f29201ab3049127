/**
 * Deterministic workflow IDs for per-record syncs. Every trigger for the same record (webhook, poll, replay) computes
 * the same ID, so Temporal collapses them into one run instead of racing two writers.
 *
 * Workflow-safe: pure string work, no Node built-ins.
 */

export class RecordIdError extends Error {
  override readonly name = 'RecordIdError';
}

function segment(label: string, value: string): string {
  if (value.length === 0) throw new RecordIdError(`${label} must not be empty`);
  // A '/' inside a part would make two different records share an ID (a/b + c vs a + b/c).
  if (value.includes('/')) throw new RecordIdError(`${label} must not contain '/': ${JSON.stringify(value)}`);
  if (value.trim() !== value) throw new RecordIdError(`${label} must not have surrounding whitespace`);
  return value;
}

/**
 * `d365/<entity>/<id>`. One Dynamics organisation serves every connection and a row's company file is known only once
 * it is read (an order belongs to its customer's file), so the ID names the row alone: a webhook, each connection's
 * poll and a replay all meet in one workflow. Dataverse GUIDs are case-insensitive and the Web API returns them
 * lower-case, so the id is lower-cased here.
 */
export function dataverseRecordWorkflowId(entity: string, id: string): string {
  return `d365/${segment('entity', entity)}/${segment('id', id).toLowerCase()}`;
}

/** `qb/<connection>/<entity>/<ListID or TxnID>`. QuickBooks ids are kept verbatim: they are opaque to us. */
export function quickBooksRecordWorkflowId(connection: string, entity: string, listIdOrTxnId: string): string {
  return `qb/${segment('connection', connection)}/${segment('entity', entity)}/${segment('id', listIdOrTxnId)}`;
}
