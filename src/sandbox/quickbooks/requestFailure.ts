import type { RecordInUseCode } from './requestContext';

/**
 * A request that QuickBooks processed and refused: it comes back as an empty `*Rs` carrying only these status
 * attributes, while the other requests of the message go on according to `onError`.
 */
export class RequestFailure extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly severity: 'Error' | 'Warn' = 'Error',
  ) {
    super(message);
    this.name = 'RequestFailure';
  }
}

export const statusMessages = {
  ok: 'Status OK',
  noMatch: 'A query request did not find a matching object in QuickBooks',
  nameInUse: (name: string) => `The name "${name}" of the list element is already in use.`,
  invalidReference: (what: string, value: string, inObject: string) =>
    `There is an invalid reference to QuickBooks ${what} "${value}" in the ${inObject}. QuickBooks error message: Invalid argument.  The specified record does not exist in the list.`,
  staleEditSequence: (editSequence: string) => `The provided edit sequence "${editSequence}" is out-of-date.`,
  invalidObjectId: (id: string, field: string) => `The given object ID "${id}" in the field "${field}" is invalid.`,
  objectNotFound: (id: string) =>
    `Object "${id}" specified in the request cannot be found.  QuickBooks error message: Invalid argument.  The specified record does not exist in the list.`,
  invalidIterator: (id: string) => `The iteratorID "${id}" is not valid.`,
  stringTooLong: (value: string, field: string) => `The string "${value}" in the field "${field}" is too long.`,
  notFullyCompleted: (value: string) =>
    `The query request has not been fully completed. There was a required element ("${value}") that could not be found in QuickBooks.`,
} as const;

export const tooLong = (value: string, field: string) =>
  new RequestFailure(3070, statusMessages.stringTooLong(value, field));

/**
 * An object ID in a Mod: malformed (not QuickBooks' `hex-digits` form) is 3000, invalid object ID; well formed but not
 * in the company file is 3120, object not found.
 */
export function unknownObject(id: string, field: string): RequestFailure {
  return /^[0-9A-F]{1,16}-\d{1,10}$/.test(id)
    ? new RequestFailure(3120, statusMessages.objectNotFound(id))
    : new RequestFailure(3000, statusMessages.invalidObjectId(id, field));
}

const inUseMessages: Readonly<Record<RecordInUseCode, string>> = {
  3170: 'It may have been modified by another user.',
  3175: 'Cannot perform this operation because the list element is in use.',
  3176: 'The internals could not be locked; another user may be editing it.',
  3180: 'The list element is in use by another user.',
};

/** A Mod of a record someone holds in QuickBooks: the same request succeeds once they let go. */
export function recordInUse(code: RecordInUseCode, what: string, id: string): RequestFailure {
  return new RequestFailure(
    code,
    `There was an error when modifying a ${what}, element "${id}". QuickBooks error message: ${inUseMessages[code]}`,
  );
}
