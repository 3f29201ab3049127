/**
 * What the webhook receiver tells a record's workflow about one Dataverse change. Deliberately small and free of
 * customer data: it lands in Temporal history (kept for the audit retention), and the sync reads the row itself
 * before writing anything, so the body's values are never needed here.
 *
 * Workflow-safe: types only.
 */
export interface DataverseChangeSummary {
  /** `Create`, `Update`, `Delete`, … as Dataverse names the message. */
  messageName: string;
  /** Logical name of the table, e.g. `salesorder`. */
  entity: string;
  /** Row id (GUID, lower-case). */
  id: string;
  /** The row's `modifiedon` as ISO 8601, when the payload carried it. */
  modifiedOn?: string;
  correlationId?: string;
  /** `RequestId` of the context (often null in async deliveries). */
  requestId?: string;
  /** `OperationId` of the context: the same operation delivered twice carries the same value. */
  operationId?: string;
  /** Logical names of the columns the message wrote (no values). */
  changedAttributes: string[];
  /** True when the payload was cut short (over 256 KB) or otherwise can't be trusted: read the row via the Web API. */
  needsRead: boolean;
  /**
   * Sent by a poll cycle that found the row changed while its run was busy, not by Dynamics. The poll finds a row
   * again every cycle until it is synced, so such a notice does not hold a quiet period open.
   */
  foundByPoll?: boolean;
}
