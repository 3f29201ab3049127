import { ApplicationFailure } from '@temporalio/activity';
import {
  DataverseDuplicateKeyError,
  DataverseError,
  DataverseKeyNotActiveError,
  DataverseThrottledError,
  DataverseValidationError,
} from '../dataverse/errors';

/**
 * Turns Dataverse errors into failures the workflow can act on: bad data fails the record at once with Dataverse's
 * message; throttling and transport problems stay retryable (the activity retry policy in `workflows/sync/activities.ts`
 * takes them from there).
 */
export function asFailure(err: unknown, doing: string): unknown {
  // An alternate key still indexing turns Active by itself: retry, never fail the record for it.
  if (err instanceof DataverseThrottledError || err instanceof DataverseKeyNotActiveError) return err;
  if (err instanceof DataverseValidationError || err instanceof DataverseDuplicateKeyError) {
    return ApplicationFailure.nonRetryable(`${doing}: ${err.message}`, err.name);
  }
  if (
    err instanceof DataverseError &&
    err.status >= 400 &&
    err.status < 500 &&
    err.status !== 401 &&
    err.status !== 408
  ) {
    return ApplicationFailure.nonRetryable(`${doing}: ${err.message}`, err.name);
  }
  return err;
}
