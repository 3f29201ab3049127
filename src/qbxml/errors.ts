/**
 * Errors callers act on. Workflows import this file, so it stays free of Node built-ins and XML libraries, and
 * every error is a plain Error subclass with `name` set (Temporal serialises failures by name and message).
 */
import { classifyStatus, type QbxmlResponse, type StatusSeverity } from './requests';

/** The builder was asked to emit a value qbXML would reject (too long, missing, contradictory). */
export class QbxmlFieldError extends Error {
  readonly requestType: string;
  readonly field: string;
  readonly limit: number | undefined;

  constructor(requestType: string, field: string, message: string, limit?: number) {
    super(`${requestType}.${field}: ${message}`);
    this.name = 'QbxmlFieldError';
    this.requestType = requestType;
    this.field = field;
    this.limit = limit;
  }
}

/** Input that is not acceptable XML: malformed, or carrying a DOCTYPE/ENTITY declaration we refuse to process. */
export class QbxmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QbxmlSyntaxError';
  }
}

/** A `*Rs` whose status says the request failed. `retryable` tells whether resending unchanged can help. */
export class QbxmlStatusError extends Error {
  readonly statusCode: number;
  readonly statusSeverity: StatusSeverity;
  readonly statusMessage: string;
  readonly requestId: string | undefined;
  readonly retryable: boolean;

  constructor(
    res: Pick<QbxmlResponse, 'statusCode' | 'statusSeverity' | 'statusMessage' | 'requestId' | 'type'>,
    retryable = false,
  ) {
    super(
      `${res.type} ${res.requestId ?? '(no requestID)'} failed with status ${res.statusCode}: ${res.statusMessage}`,
    );
    this.name = 'QbxmlStatusError';
    this.statusCode = res.statusCode;
    this.statusSeverity = res.statusSeverity;
    this.statusMessage = res.statusMessage;
    this.requestId = res.requestId;
    this.retryable = retryable;
  }
}

type StatusSource = ConstructorParameters<typeof QbxmlStatusError>[0];

/** 3100: names are unique across customers, vendors, employees and other names; look it up and link instead. */
export class NameInUseError extends QbxmlStatusError {
  constructor(res: StatusSource) {
    super(res, false);
    this.name = 'NameInUseError';
  }
}

/** 3140: a referenced customer/item/… does not exist; sync the dependency first. */
export class InvalidReferenceError extends QbxmlStatusError {
  constructor(res: StatusSource) {
    super(res, false);
    this.name = 'InvalidReferenceError';
  }
}

/** 3000 / 3120: the object an ID points at is gone or never existed; re-resolve it. */
export class ObjectNotFoundError extends QbxmlStatusError {
  constructor(res: StatusSource) {
    super(res, false);
    this.name = 'ObjectNotFoundError';
  }
}

/** 3200: the EditSequence is out of date; re-query, re-apply the diff, resend. Not retryable unchanged. */
export class StaleEditSequenceError extends QbxmlStatusError {
  constructor(res: StatusSource) {
    super(res, false);
    this.name = 'StaleEditSequenceError';
  }
}

/** 3170 / 3175 / 3176 / 3180: someone else holds the record or list; the same request can succeed later. */
export class RecordLockedError extends QbxmlStatusError {
  constructor(res: StatusSource) {
    super(res, true);
    this.name = 'RecordLockedError';
  }
}

/** 3391: the iterator expired or ended; restart the query from `Start`. */
export class InvalidIteratorError extends QbxmlStatusError {
  constructor(res: StatusSource) {
    super(res, false);
    this.name = 'InvalidIteratorError';
  }
}

/** 1000 / 1010: QuickBooks itself failed or was unavailable; retry on a later attempt. */
export class QuickBooksInternalError extends QbxmlStatusError {
  constructor(res: StatusSource) {
    super(res, true);
    this.name = 'QuickBooksInternalError';
  }
}

const ERROR_BY_CODE: ReadonlyMap<number, new (res: StatusSource) => QbxmlStatusError> = new Map([
  [3100, NameInUseError],
  [3140, InvalidReferenceError],
  [3000, ObjectNotFoundError],
  [3120, ObjectNotFoundError],
  [3200, StaleEditSequenceError],
  [3170, RecordLockedError],
  [3175, RecordLockedError],
  [3176, RecordLockedError],
  [3180, RecordLockedError],
  [3391, InvalidIteratorError],
  [1000, QuickBooksInternalError],
  [1010, QuickBooksInternalError],
]);

/** The typed error for a failed `*Rs`; undefined when the response is ok, empty or only a warning. */
export function statusErrorFor(res: QbxmlResponse): QbxmlStatusError | undefined {
  if (classifyStatus(res) !== 'error') return undefined;
  const ErrorClass = ERROR_BY_CODE.get(res.statusCode);
  return ErrorClass ? new ErrorClass(res) : new QbxmlStatusError(res, false);
}
