import { randomUUID } from 'node:crypto';
import { badRequest, ErrorCodes } from './dataverseError';
import { type ChangeEvent, type ServerWork, type WriteContext } from './records';
import { type RecordStore } from './store';
import { type ApiRequest, type ApiResponse, type WebApi } from './webApi';

interface BatchOperation {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  contentId?: string;
}

type BatchItem = { kind: 'request'; operation: BatchOperation } | { kind: 'changeset'; operations: BatchOperation[] };

const MAX_OPERATIONS = 1000;
const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /boundary\s*=\s*"?([^";]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.trim();
}

/** Splits a header block + body at the first empty line; accepts CRLF and bare LF as sent by hand-written tests. */
function splitHeadBody(text: string): { headers: Record<string, string>; body: string; firstLine?: string } {
  const normalised = text.replace(/^\r?\n/, '');
  const match = /\r?\n\r?\n/.exec(normalised);
  const head = match === null ? normalised : normalised.slice(0, match.index);
  const body = match === null ? '' : normalised.slice(match.index + match[0].length);
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && /^[\w-]+$/.test(line.slice(0, colon).trim()))
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function parts(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const pieces = body.split(delimiter);
  const result: string[] = [];
  for (const piece of pieces.slice(1)) {
    if (piece.startsWith('--')) break;
    result.push(piece.replace(/\r?\n$/, ''));
  }
  return result;
}

function parseOperation(partText: string): BatchOperation {
  const part = splitHeadBody(partText);
  const inner = part.body.replace(/^\r?\n/, '');
  const lineEnd = inner.search(/\r?\n/);
  const requestLine = lineEnd < 0 ? inner : inner.slice(0, lineEnd);
  const match = /^(GET|POST|PATCH|PUT|DELETE)\s*(\S+)\s+HTTP\/1\.1\s*$/i.exec(requestLine);
  if (match?.[1] === undefined || match[2] === undefined)
    throw badRequest(ErrorCodes.invalidArgument, `Invalid request line in batch: '${requestLine}'.`);
  const rest = splitHeadBody(lineEnd < 0 ? '' : inner.slice(lineEnd).replace(/^\r?\n/, ''));
  const operation: BatchOperation = {
    method: match[1].toUpperCase(),
    url: match[2],
    headers: rest.headers,
    body: rest.body.replace(/\r?\n$/, ''),
  };
  const contentId = part.headers['content-id'];
  if (contentId !== undefined) operation.contentId = contentId;
  return operation;
}

function parseBatch(contentType: string | undefined, body: string): BatchItem[] {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined || !/multipart\/mixed/i.test(contentType ?? '')) {
    throw badRequest(
      ErrorCodes.invalidArgument,
      'The $batch request must have Content-Type multipart/mixed with a boundary.',
    );
  }
  const items: BatchItem[] = [];
  let count = 0;
  for (const partText of parts(body, boundary)) {
    const part = splitHeadBody(partText);
    const nested = boundaryOf(part.headers['content-type']);
    if (nested !== undefined && /multipart\/mixed/i.test(part.headers['content-type'] ?? '')) {
      const operations = parts(part.body, nested).map(parseOperation);
      if (operations.some((o) => o.method === 'GET'))
        throw badRequest(ErrorCodes.invalidArgument, 'GET requests are not allowed inside a change set.');
      count += operations.length;
      items.push({ kind: 'changeset', operations });
    } else {
      count += 1;
      items.push({ kind: 'request', operation: parseOperation(partText) });
    }
  }
  if (count > MAX_OPERATIONS)
    throw badRequest(
      ErrorCodes.invalidArgument,
      `The batch contains ${count} requests; the maximum is ${MAX_OPERATIONS}.`,
    );
  return items;
}

interface BatchEnvironment {
  api: WebApi;
  store: RecordStore;
  webApiUrl: string;
  /** Headers of the outer request that apply to every part (Prefer, CallerObjectId, …). */
  outerHeaders: Record<string, string | undefined>;
  /** Who the batch runs as (the client id of its token): every operation in it runs as the same caller. */
  caller?: string;
  dispatch(events: ChangeEvent[], tag: string | undefined): void;
  errorResponse(error: unknown, prefer: string | undefined): ApiResponse;
  /** Each operation is charged its own server time: batching does not get around the execution-time limit. */
  work: ServerWork;
}

function toApiRequest(
  operation: BatchOperation,
  webApiUrl: string,
  contentIds: Map<string, { table: string; id: string }>,
  outer: Record<string, string | undefined>,
  caller: string | undefined,
): ApiRequest {
  let url = operation.url;
  const reference = /^\$(\w+)(.*)$/.exec(url);
  if (reference?.[1] !== undefined) {
    const target = contentIds.get(reference[1]);
    if (target === undefined)
      throw badRequest(
        ErrorCodes.contentIdMissing,
        `Content-ID Reference: '$${reference[1]}' does not exist in the batch context.`,
      );
    url = `${webApiUrl}__ref__${target.table}|${target.id}${reference[2] ?? ''}`;
  }
  const parsed = new URL(url, webApiUrl);
  // The part's `tag` names who wrote (for plug-ins and webhooks), as on a request of its own: not a query option.
  parsed.searchParams.delete('tag');
  let path = parsed.pathname.replace(/^\/api\/data\/v9\.\d\//i, '');
  const refMatch = /^__ref__([^|]+)\|([^/]+)(.*)$/.exec(decodeURIComponent(path));
  if (refMatch?.[1] !== undefined) path = `${refMatch[1]}(${refMatch[2] ?? ''})${refMatch[3] ?? ''}`;
  const headers: Record<string, string | undefined> = { ...outer };
  for (const [k, v] of Object.entries(operation.headers)) headers[k] = v;
  return {
    method: operation.method,
    path,
    query: parsed.searchParams,
    headers,
    body: operation.body,
    ...(caller !== undefined ? { caller } : {}),
  };
}

function httpPart(response: ApiResponse, contentId: string | undefined, withLocation: boolean): string {
  const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
  if (contentId !== undefined) lines.push(`Content-ID: ${contentId}`);
  lines.push('', `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? ''}`.trimEnd());
  const headers = { ...response.headers };
  const entityId = headers['OData-EntityId'];
  delete headers['OData-EntityId'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (entityId !== undefined) {
    // The layout of samples/dataverse/batch-response-changeset-and-get.txt: no space after these two colons.
    if (withLocation) lines.push(`Location:${entityId}`);
    lines.push(`OData-EntityId:${entityId}`);
  }
  lines.push('');
  if (response.body !== undefined) lines.push(response.body);
  return lines.join('\r\n');
}

/**
 * Runs a `$batch`: change sets atomically (all or nothing), other parts one by one. Without
 * `Prefer: odata.continue-on-error` the first failure ends the batch and the batch itself answers with that failure's
 * status (the body still lists the parts run so far, the failing one last); with it every part runs and the batch
 * answers 200 with each part's own status.
 */
export function executeBatch(
  contentType: string | undefined,
  body: string,
  outerTag: string | undefined,
  env: BatchEnvironment,
): ApiResponse & { tag?: string } {
  let seenTag = outerTag;
  /** A part's own `tag` (Dataverse takes the parameter on each request of a batch), else the batch's. */
  const tagOf = (operation: BatchOperation | undefined): string | undefined => {
    const own =
      operation && !operation.url.startsWith('$')
        ? new URL(operation.url, env.webApiUrl).searchParams.get('tag')
        : null;
    seenTag ??= own ?? undefined;
    return own ?? outerTag;
  };
  const items = parseBatch(contentType, body);
  const prefer = env.outerHeaders.prefer;
  const continueOnError = /odata\.continue-on-error/i.test(prefer ?? '');
  const batchBoundary = `batchresponse_${randomUUID()}`;
  const out: string[] = [];
  let stoppedWith: number | undefined;
  for (const item of items) {
    if (item.kind === 'request') {
      const tag = tagOf(item.operation);
      const context: WriteContext = { events: [], work: env.work, ...(tag !== undefined ? { tag } : {}) };
      let response: ApiResponse;
      let failed = false;
      try {
        response = env.api.handle(
          toApiRequest(item.operation, env.webApiUrl, new Map(), env.outerHeaders, env.caller),
          context,
        );
        env.dispatch(context.events, tag);
      } catch (error) {
        response = env.errorResponse(error, item.operation.headers.prefer ?? prefer);
        failed = true;
      }
      out.push(`--${batchBoundary}\r\n${httpPart(response, item.operation.contentId, false)}`);
      if (failed && !continueOnError) {
        stoppedWith = response.status;
        break;
      }
      continue;
    }
    const contentIds = new Map<string, { table: string; id: string }>();
    const tag = tagOf(item.operations[0]);
    const context: WriteContext = { events: [], contentIds, work: env.work, ...(tag !== undefined ? { tag } : {}) };
    const responses: Array<{ response: ApiResponse; contentId?: string }> = [];
    let running: BatchOperation | undefined;
    try {
      env.store.transaction(() => {
        for (const operation of item.operations) {
          running = operation;
          const response = env.api.handle(
            toApiRequest(operation, env.webApiUrl, contentIds, env.outerHeaders, env.caller),
            context,
          );
          const entityId = response.headers['OData-EntityId'];
          const address = entityId === undefined ? undefined : /\/(\w+)\(([0-9a-fA-F-]{36})\)$/.exec(entityId);
          if (operation.contentId !== undefined && address?.[1] !== undefined && address[2] !== undefined) {
            const table = env.api.tableForSet(address[1]);
            contentIds.set(operation.contentId, { table, id: address[2] });
          }
          responses.push({
            response,
            ...(operation.contentId !== undefined ? { contentId: operation.contentId } : {}),
          });
        }
      });
    } catch (error) {
      // A failed change set answers with the one failing response (carrying that operation's Content-ID), not a
      // nested multipart: everything before it in the set was rolled back.
      const response = env.errorResponse(error, running?.headers.prefer ?? prefer);
      out.push(`--${batchBoundary}\r\n${httpPart(response, running?.contentId, false)}`);
      if (!continueOnError) {
        stoppedWith = response.status;
        break;
      }
      continue;
    }
    env.dispatch(context.events, tag);
    const changesetBoundary = `changesetresponse_${randomUUID()}`;
    const nested = responses
      .map(({ response, contentId }) => `--${changesetBoundary}\r\n${httpPart(response, contentId, true)}`)
      .join('\r\n');
    out.push(
      `--${batchBoundary}\r\nContent-Type: multipart/mixed; boundary=${changesetBoundary}\r\n\r\n${nested}\r\n--${changesetBoundary}--`,
    );
  }
  return {
    ...(seenTag !== undefined ? { tag: seenTag } : {}),
    status: stoppedWith ?? 200,
    headers: {
      'Content-Type': `multipart/mixed; boundary=${batchBoundary}`,
      'OData-Version': '4.0',
      ...(continueOnError ? { 'Preference-Applied': 'odata.continue-on-error' } : {}),
    },
    body: `${out.join('\r\n')}\r\n--${batchBoundary}--\r\n`,
  };
}
