import type { Logger as SdkLogger, LogLevel, LogMetadata } from '@temporalio/common';
import type { Logger } from 'pino';

/**
 * Failure texts name customers ("Dynamics account Dr. Jane Q. Public cannot be synced: …"): histories hold them
 * encrypted (src/codec/failureConverter.ts), and logs must not undo that. A logged failure keeps its kind (class name,
 * ApplicationFailure type, the kinds of its causes) and loses its message, stack and details; the ids logged beside it
 * (workflow, run, activity, attempt) are the reference to read it decoded in the Web UI or with `qbsync failed`.
 */
const REDACTED = '[redacted failure text]';

/** Fields whose string value is a failure's own words, however the code that logs them got them. */
const FAILURE_TEXT_KEYS = new Set(['error', 'err', 'failure', 'cause', 'reason', 'message', 'stack', 'details']);

/** Failure texts shorter than this are not scrubbed out of a log line's message (they would match ordinary words). */
const MIN_SCRUBBED_LENGTH = 8;

const MAX_DEPTH = 6;

export interface FailureSummary {
  /** The error's class name: `ApplicationFailure`, `ActivityFailure`, `DataverseValidationError`, … */
  kind: string;
  /** An ApplicationFailure's type (`MappingError`), which says what went wrong without saying about whom. */
  type?: string;
  nonRetryable?: boolean;
  cause?: FailureSummary;
  message: typeof REDACTED;
}

/** An Error of any realm: workflow log lines cross from the workflow sandbox, where `instanceof Error` fails. */
function isFailure(value: unknown): value is { name?: unknown; message: string; stack?: unknown; cause?: unknown } {
  if (value instanceof Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { message?: unknown; name?: unknown; stack?: unknown };
  return typeof candidate.message === 'string' && (typeof candidate.name === 'string' || 'stack' in candidate);
}

function summarise(failure: unknown, texts: string[], depth: number): FailureSummary {
  const f = failure as { name?: unknown; message: string; stack?: unknown; cause?: unknown; type?: unknown };
  texts.push(f.message);
  if (typeof f.stack === 'string') texts.push(f.stack);
  const summary: FailureSummary = {
    kind: typeof f.name === 'string' && f.name ? f.name : 'Error',
    message: REDACTED,
  };
  if (typeof f.type === 'string' && f.type) summary.type = f.type;
  const nonRetryable = (failure as { nonRetryable?: unknown }).nonRetryable;
  if (typeof nonRetryable === 'boolean') summary.nonRetryable = nonRetryable;
  if (depth < MAX_DEPTH && isFailure(f.cause)) summary.cause = summarise(f.cause, texts, depth + 1);
  return summary;
}

/** `within`: the value sits under a failure field (`error: { code, details }`), so every string in it is failure text. */
function redactValue(key: string, value: unknown, texts: string[], depth: number, within = false): unknown {
  if (isFailure(value)) return summarise(value, texts, 0);
  const failureField = within || FAILURE_TEXT_KEYS.has(key);
  if (typeof value === 'string') {
    if (!failureField) return value;
    texts.push(value);
    return REDACTED;
  }
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(key, item, texts, depth + 1, failureField));
  // Only plain records are walked: Buffers, Dates and class instances are logged as pino would log them.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, redactValue(k, v, texts, depth + 1, failureField)]),
  );
}

/**
 * A log line's fields without failure texts, and its message without any of those texts quoted in it (the SDK writes
 * lines such as "Error while processing ActivityTask.start: <the error's message>").
 */
export function redactFailureText(
  message: string,
  meta: LogMetadata | undefined,
): { message: string; meta: Record<string, unknown> } {
  const texts: string[] = [];
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) fields[key] = redactValue(key, value, texts, 0);
  let scrubbed = message;
  for (const text of texts.sort((a, b) => b.length - a.length)) {
    if (text.length >= MIN_SCRUBBED_LENGTH) scrubbed = scrubbed.split(text).join(REDACTED);
  }
  return { message: scrubbed, meta: fields };
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger (Runtime.install) for the worker: every line the SDK, Rust core (forwarded), workflow and
 * activity code log goes to pino as JSON, failure texts redacted.
 */
export function temporalSdkLogger(log: Logger): SdkLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const redacted = redactFailureText(message, meta);
    log[PINO_LEVEL[level]](redacted.meta, redacted.message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/** Pino serializers for the gateway's logger: an `err` or `error` field is logged as its failure summary. */
export const failureSerializers = {
  err: (value: unknown): unknown => redactValue('err', value, [], 0),
  error: (value: unknown): unknown => redactValue('error', value, [], 0),
};
