/**
 * Typed failures of the Dataverse Web API. Callers branch on the class (a stale ETag means "re-read and retry",
 * a duplicate key means "already exists") instead of parsing messages. Messages name the connection, the method
 * and the path so an operator can act on them; they never carry request headers, so never a bearer token.
 */

export interface DataverseErrorContext {
  connection: string;
  method?: string;
  /** Path relative to the Web API root, without the query string (keeps `?tag=` and filters out of logs). */
  path?: string;
}

export interface DataverseErrorDetails extends DataverseErrorContext {
  status: number;
  /** Dataverse's own error code (hex string such as `0x80060892`); often empty. Not the HTTP status. */
  code: string;
  message: string;
  /** `@Microsoft.PowerApps.CDS.ErrorDetails.SubErrorCode` and friends, when the server sent them. */
  annotations?: Record<string, string>;
}

export class DataverseError extends Error {
  readonly status: number;
  readonly code: string;
  readonly serverMessage: string;
  readonly connection: string;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly annotations: Record<string, string>;

  constructor(details: DataverseErrorDetails) {
    super(describe(details));
    this.name = new.target.name;
    this.status = details.status;
    this.code = details.code;
    this.serverMessage = details.message;
    this.connection = details.connection;
    this.method = details.method;
    this.path = details.path;
    this.annotations = details.annotations ?? {};
  }
}

function describe(d: DataverseErrorDetails): string {
  const where = d.method && d.path ? ` on ${d.method} ${d.path}` : '';
  const code = d.code ? ` ${d.code}` : '';
  const status = d.status > 0 ? ` ${d.status}` : '';
  return `Dataverse${status}${code}${where} (connection "${d.connection}"): ${d.message}`;
}

/** 404: the row (or the key) does not exist. */
export class DataverseNotFoundError extends DataverseError {}

/** 412 on `If-Match: <etag>`: someone changed the row since we read it. Re-read and retry. */
export class DataverseConcurrencyError extends DataverseError {}

/** A row with the same alternate key already exists (412 on create-only upsert, `0x80060892` on POST, SQL duplicates). */
export class DataverseDuplicateKeyError extends DataverseError {}

/** 401 that survived one token renewal, or the identity provider refused our credentials. */
export class DataverseAuthError extends DataverseError {}

/** 400: Dataverse rejected the payload (bad column, plug-in error, invalid choice value, …). */
export class DataverseValidationError extends DataverseError {}

/** 429/503 that outlasted the client's bounded retries. */
export class DataverseThrottledError extends DataverseError {
  readonly retryAfterMs: number;
  constructor(details: DataverseErrorDetails & { retryAfterMs: number }) {
    super(details);
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * The alternate key a write addresses is not usable yet: Dataverse builds a key's unique index asynchronously
 * (Pending → In Progress → Active) and until then answers `0x80060890` ("not a defined key"). Transient: retry later.
 */
export class DataverseKeyNotActiveError extends DataverseError {}

/**
 * The activity attempt this request belonged to was cancelled (or timed out): the request was not sent, or was
 * aborted in flight. Not a Dataverse answer; whether an aborted write committed is unknown, so the next attempt
 * re-reads before it writes (every write of the connector is an upsert by key or conditional).
 */
export class DataverseCancelledError extends DataverseError {}

/** An alternate-key value Dataverse cannot address in a URL (reference §3.3), caught before any request is sent. */
export class DataverseKeyValueError extends DataverseError {}

/** Error codes (reference §5) that mean "a row with these unique values already exists". */
const DUPLICATE_CODES = new Set(
  ['0x80040237', '0x80060892', '0x80040333', '0x80073002', '0x80043b08'].map((c) => c.toLowerCase()),
);
const KEY_NOT_DEFINED = '0x80060890';
const STALE_ROW_VERSION = /version of the existing record doesn't match/i;
const MATCHING_KEY_EXISTS = /matching key values already exists|entity key .* violated/i;

export interface ParsedErrorBody {
  code: string;
  message: string;
  annotations: Record<string, string>;
}

/** Reads `{"error":{"code","message",...annotations}}`; anything else becomes a message built from the raw text. */
function parseErrorBody(text: string, status: number): ParsedErrorBody {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  if (!error) {
    const snippet = text.trim().slice(0, 300);
    return { code: '', message: snippet || `HTTP ${status} with no error body`, annotations: {} };
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(error)) {
    if (k.startsWith('@') && (typeof v === 'string' || typeof v === 'number')) {
      annotations[k.slice(1)] = String(v);
    }
  }
  return {
    code: typeof error.code === 'string' ? error.code : '',
    message: typeof error.message === 'string' ? error.message : `HTTP ${status}`,
    annotations,
  };
}

export interface ErrorMappingInput extends DataverseErrorContext {
  status: number;
  bodyText: string;
  /** Conditional header the request carried: decides what a 412 means when the body is ambiguous. */
  condition?: 'etag' | 'createOnly' | 'updateOnly' | 'none';
  retryAfterMs?: number;
}

export function mapDataverseError(input: ErrorMappingInput): DataverseError {
  const body = parseErrorBody(input.bodyText, input.status);
  const details: DataverseErrorDetails = {
    connection: input.connection,
    method: input.method,
    path: input.path,
    status: input.status,
    code: body.code,
    message: body.message,
    annotations: body.annotations,
  };
  const code = body.code.toLowerCase();
  switch (input.status) {
    case 401:
      return new DataverseAuthError(details);
    case 404:
      return new DataverseNotFoundError(details);
    case 429:
    case 503:
      return new DataverseThrottledError({ ...details, retryAfterMs: input.retryAfterMs ?? 0 });
    case 412:
      if (STALE_ROW_VERSION.test(body.message)) return new DataverseConcurrencyError(details);
      if (DUPLICATE_CODES.has(code) || MATCHING_KEY_EXISTS.test(body.message)) {
        return new DataverseDuplicateKeyError(details);
      }
      return input.condition === 'etag'
        ? new DataverseConcurrencyError(details)
        : new DataverseDuplicateKeyError(details);
  }
  if (DUPLICATE_CODES.has(code)) return new DataverseDuplicateKeyError(details);
  if (code === KEY_NOT_DEFINED) return new DataverseKeyNotActiveError(details);
  if (input.status === 400) return new DataverseValidationError(details);
  return new DataverseError(details);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
