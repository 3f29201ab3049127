import { type DataverseChange } from '../../dataverse/remoteExecutionContext';
import { type DataverseChangeSummary } from '../../workflows/dataverseChangeSummary';

/**
 * Keeps what a record's workflow needs to decide and to audit — ids, timing, which columns moved — and drops every
 * value, so customer data never lands in Temporal history through a signal.
 */
export function summarizeDataverseChange(change: DataverseChange, needsRead: boolean): DataverseChangeSummary {
  const summary: DataverseChangeSummary = {
    messageName: change.messageName,
    entity: change.entityName,
    id: change.entityId,
    correlationId: change.correlationId,
    changedAttributes: Object.keys(change.attributes),
    needsRead,
  };
  const modifiedOn = change.attributes.modifiedon ?? change.postImage?.modifiedon;
  if (typeof modifiedOn === 'string') summary.modifiedOn = modifiedOn;
  if (change.requestId !== undefined) summary.requestId = change.requestId;
  if (change.operationId !== undefined) summary.operationId = change.operationId;
  return summary;
}
