import { ApplicationFailure } from '@temporalio/workflow';
import { statusErrorFor } from '../../qbxml/errors';
import type { QbxmlResponse } from '../../qbxml/requests';
import type { QbxmlOutcome } from './runQbxml';

/**
 * Turns a qbXML outcome that is not a success into a workflow failure: QuickBooks status errors keep their type
 * (`NameInUseError`, `InvalidReferenceError`, ...) so callers and operators can tell them apart, and are non-retryable
 * unless QuickBooks says the record was only locked.
 */
export function responseOrFail(outcome: QbxmlOutcome | undefined, what: string): QbxmlResponse {
  if (!outcome) throw ApplicationFailure.nonRetryable(`${what}: no answer from QuickBooks`, 'QbxmlNoAnswer');
  if (outcome.kind === 'outcomeUnknown') {
    throw ApplicationFailure.retryable(`${what}: outcome unknown (${outcome.reason})`, 'QbxmlOutcomeUnknown');
  }
  if (outcome.kind === 'rejected') {
    throw ApplicationFailure.nonRetryable(
      `${what}: QuickBooks refused the request (${outcome.hresult}: ${outcome.message})`,
      'QbxmlRejected',
    );
  }
  const error = statusErrorFor(outcome.response);
  if (error) {
    throw ApplicationFailure.create({
      message: `${what}: QuickBooks status ${error.statusCode}: ${error.statusMessage}`,
      type: error.name,
      nonRetryable: !error.retryable,
      details: [{ statusCode: error.statusCode, requestId: error.requestId }],
    });
  }
  return outcome.response;
}
