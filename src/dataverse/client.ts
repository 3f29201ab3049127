import { request, type Dispatcher } from 'undici';
import { type Logger } from 'pino';
import { childLogger } from '../observability/logger';
import {
  DataverseCancelledError,
  DataverseConcurrencyError,
  DataverseError,
  DataverseNotFoundError,
  mapDataverseError,
  type ErrorMappingInput,
} from './errors';
import { type RateGovernor, type RequestWeight } from './rateGovernor';
import { type DataverseTokenSource } from './tokenProvider';
import { outboundRoute } from './outboundRoute';
import { entityAddress, idFromEntityUrl, queryString, type AlternateKey, type QueryOptions } from './odataAddress';
import { decodeBatchResponse, encodeBatch, type BatchMethod, type BatchRequestPart } from './batchMultipart';

export type DataverseRow = Record<string, unknown>;

export interface DataverseClientOptions {
  connection: string;
  /** `https://<org>.crm.dynamics.com/api/data/v9.2` (trailing slash optional). */
  webApiUrl: string;
  tokenProvider: DataverseTokenSource;
  /** Trust this CA (PEM) for Dataverse only, e.g. the sandbox's. */
  caPem?: string;
  /** Where `HTTPS_PROXY` / `NO_PROXY` are read from (the process's environment by default). */
  env?: NodeJS.ProcessEnv;
  governor: RateGovernor;
  /** Marker appended to writes as `?tag=` so webhooks can drop our own echoes; '' disables. Default `qbsync`. */
  tag?: string;
  /** How many 429/503 answers one call sits out before giving up. */
  maxThrottleRetries?: number;
  /** Retry-After to assume when a 429/503 carries none (doubles per attempt, up to `maxRetryAfterMs`). */
  defaultRetryAfterMs?: number;
  /**
   * The longest one call waits out a 429/503 before giving up with DataverseThrottledError (default 60 s): keep it
   * below the activity's start-to-close timeout so an attempt never waits past its own end.
   */
  maxRetryAfterMs?: number;
  requestTimeoutMs?: number;
}

export interface WriteResult {
  /** Row id, from `OData-EntityId` or the returned row. */
  id: string | undefined;
  /** Present with `returnRepresentation` (or when the server sent an ETag header). */
  etag?: string;
  row?: DataverseRow;
  /** For upserts: true when the row was created, false when updated, undefined when the server did not say. */
  created?: boolean;
}

export type UpsertMode = 'upsert' | 'createOnly' | 'updateOnly';

export interface ReturnOptions {
  returnRepresentation?: boolean;
  /** Columns returned with `returnRepresentation`. */
  select?: readonly string[];
}

export interface QueryPageOptions extends QueryOptions {
  /** `Prefer: odata.maxpagesize` (Dataverse default and maximum 5000). */
  pageSize?: number;
}

export interface BatchOperation {
  method: BatchMethod;
  /** Relative to the Web API root (`accounts`, `accounts(<id>)`) or `$<n>` for an earlier operation's result. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface BatchOperationResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** From `OData-EntityId` on writes. */
  id: string | undefined;
  /** Content-ID this operation carried (its 1-based index in the call), usable as `$<n>` by later operations. */
  contentId: string;
  error?: DataverseError;
}

export interface UpdateWithRetryOptions {
  select?: readonly string[];
  maxAttempts?: number;
  /**
   * Reads the row (with its `@odata.etag`) instead of a request of its own, e.g. through a bulk reader shared with
   * other activities; called afresh on every attempt. Null when the row does not exist.
   */
  read?: () => Promise<DataverseRow | null>;
  /**
   * Writes the patch instead of a PATCH of its own, e.g. through a bulk updater shared with other activities; must
   * keep the condition on `etag` (a row changed since the read fails with `DataverseConcurrencyError`).
   */
  write?: (id: string, patch: DataverseRow, etag: string | undefined) => Promise<unknown>;
}

interface SendRequest {
  method: BatchMethod;
  /** Relative path, or an absolute URL already on this Web API (next links). */
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  condition?: ErrorMappingInput['condition'];
  /** `$batch`: a failed batch answers with the failing part's status and a multipart body; the caller decodes it. */
  multipartFailure?: boolean;
  /** What the request asks of the server (operations of a `$batch`, rows of a bulk message), for the governor. */
  weight?: RequestWeight;
}

export interface AttemptContext {
  signal: AbortSignal;
  heartbeat?: () => void;
}

/** Settles with `work`, or rejects as soon as `signal` aborts (the work itself is left to notice the abort). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, cancelled: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

interface TableFacts {
  logicalName: string | undefined;
  primaryIdAttribute: string | undefined;
  optimisticConcurrency: boolean;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const ODATA_HEADERS = {
  Accept: 'application/json',
  'OData-MaxVersion': '4.0',
  'OData-Version': '4.0',
};

/**
 * Dataverse Web API client for one connection. Every request goes through the shared governor, carries a fresh
 * (usually cached) token, renews the token once on 401, and sits out 429/503 for Retry-After before retrying.
 */
export class DataverseClient {
  readonly connection: string;
  readonly webApiUrl: string;
  private readonly tokens: DataverseTokenSource;
  private readonly governor: RateGovernor;
  private readonly dispatcher: Dispatcher;
  private readonly tag: string;
  private readonly maxThrottleRetries: number;
  private readonly defaultRetryAfterMs: number;
  private readonly maxRetryAfterMs: number;
  /** Set on the view `forAttempt` returns: the activity attempt whose cancellation and heartbeat this client follows. */
  private attempt: AttemptContext | undefined = undefined;
  /** Set on the view `forSharedCalls` returns: a 429 or 503 goes to the caller at once. */
  private throttlesToCaller = false;
  /** Set on the view `followingAttempts` returns: finds, at each request, the attempt it runs in (if any). */
  private attemptOf: (() => AttemptContext | undefined) | undefined = undefined;
  private readonly requestTimeoutMs: number;
  private readonly log: Logger;
  private readonly tables = new Map<string, Promise<TableFacts>>();

  constructor(options: DataverseClientOptions) {
    const url = new URL(options.webApiUrl);
    if (url.protocol !== 'https:') throw new Error(`Dataverse Web API URL must use https: ${url.origin}`);
    this.connection = options.connection;
    this.webApiUrl = url.href.replace(/\/+$/, '');
    this.tokens = options.tokenProvider;
    this.governor = options.governor;
    this.tag = options.tag ?? 'qbsync';
    this.maxThrottleRetries = options.maxThrottleRetries ?? 10;
    this.defaultRetryAfterMs = options.defaultRetryAfterMs ?? 2000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
    this.dispatcher = outboundRoute({
      ...(options.caPem ? { caPem: options.caPem } : {}),
      ...(options.env ? { env: options.env } : {}),
      connections: 64,
    }).dispatcher;
    this.log = childLogger({ component: 'dataverse-client', connection: options.connection });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /**
   * This client for one activity attempt: every request heartbeats through `heartbeat` while it waits or runs, a
   * request not yet sent when `signal` aborts is never sent, and one in flight is aborted. Shares the connection,
   * the governor, the token cache and what it learnt of tables with this client. In an activity:
   * `dataverse.forAttempt(Context.current().cancellationSignal, () => Context.current().heartbeat())`.
   */
  forAttempt(signal: AbortSignal, heartbeat?: () => void): DataverseClient {
    const view = Object.create(this) as DataverseClient;
    view.attempt = { signal, ...(heartbeat ? { heartbeat } : {}) };
    return view;
  }

  /**
   * This client for code that cannot hand each call its attempt (activities built once by a factory): every request
   * asks `attemptOf` which attempt it runs in and then behaves as on a `forAttempt` view of it; a request made outside
   * any attempt (`attemptOf` answers undefined) runs as on this client.
   */
  followingAttempts(attemptOf: () => AttemptContext | undefined): DataverseClient {
    const view = Object.create(this) as DataverseClient;
    view.attemptOf = attemptOf;
    return view;
  }

  /**
   * This client for calls that carry the items of many activity attempts (the gathered calls): a 429 or 503 is thrown
   * at once as `DataverseThrottledError`, not waited out and sent again here. The governor still holds every start
   * until its Retry-After has passed. The caller then sends again only the items still waiting: the same body sent
   * again would write a row whose attempt was cancelled meanwhile, perhaps over what a later attempt wrote since.
   */
  forSharedCalls(): DataverseClient {
    const view = Object.create(this) as DataverseClient;
    view.throttlesToCaller = true;
    return view;
  }

  // ---- writes -------------------------------------------------------------------------------------------

  async create(entitySet: string, body: DataverseRow, options: ReturnOptions = {}): Promise<WriteResult> {
    const res = await this.send({
      method: 'POST',
      path: entitySet,
      query: this.writeQuery(options),
      headers: this.preferReturn(options),
      body: JSON.stringify(body),
    });
    return writeResult(res, entitySet);
  }

  /**
   * PATCH by id. Without an etag, `If-Match: *` still prevents PATCH from silently creating a missing row. An etag is
   * sent only where the table has optimistic concurrency (Dataverse refuses a row version elsewhere); there the update
   * is only guarded against creating.
   */
  async update(
    entitySet: string,
    id: string,
    body: DataverseRow,
    options: ReturnOptions & { etag?: string } = {},
  ): Promise<WriteResult> {
    const etag = options.etag && (await this.hasOptimisticConcurrency(entitySet)) ? options.etag : undefined;
    const res = await this.send({
      method: 'PATCH',
      path: entityAddress(entitySet, id, this.connection),
      query: this.writeQuery(options),
      headers: { 'If-Match': etag ?? '*', ...this.preferReturn(options) },
      body: JSON.stringify(body),
      condition: etag ? 'etag' : 'updateOnly',
    });
    return { ...writeResult(res, entitySet), id: idFromEntityUrl(res.headers['odata-entityid']) ?? id.toLowerCase() };
  }

  /**
   * Idempotent write by alternate key (reference §3.2). Key columns are removed from the body: the URL carries
   * them, and a differing body value would silently win on create.
   */
  async upsertByKey(
    entitySet: string,
    key: AlternateKey,
    body: DataverseRow,
    options: ReturnOptions & { mode?: UpsertMode } = {},
  ): Promise<WriteResult> {
    const mode = options.mode ?? 'upsert';
    const payload: DataverseRow = { ...body };
    for (const column of Object.keys(key)) delete payload[column];
    const conditional: Record<string, string> =
      mode === 'createOnly' ? { 'If-None-Match': '*' } : mode === 'updateOnly' ? { 'If-Match': '*' } : {};
    const res = await this.send({
      method: 'PATCH',
      path: entityAddress(entitySet, key, this.connection),
      query: this.writeQuery(options),
      headers: { ...conditional, ...this.preferReturn(options) },
      body: JSON.stringify(payload),
      condition: mode === 'createOnly' ? 'createOnly' : mode === 'updateOnly' ? 'updateOnly' : 'none',
    });
    const result = writeResult(res, entitySet);
    if (res.status === 201) result.created = true;
    else if (res.status === 200) result.created = false;
    else if (mode === 'createOnly') result.created = true;
    else if (mode === 'updateOnly') result.created = false;
    return result;
  }

  /** Returns false when the row was already gone. */
  async delete(entitySet: string, idOrKey: string | AlternateKey, options: { etag?: string } = {}): Promise<boolean> {
    const etag = options.etag && (await this.hasOptimisticConcurrency(entitySet)) ? options.etag : undefined;
    try {
      await this.send({
        method: 'DELETE',
        path: entityAddress(entitySet, idOrKey, this.connection),
        query: this.writeQuery({}),
        headers: etag ? { 'If-Match': etag } : {},
        condition: etag ? 'etag' : 'none',
      });
      return true;
    } catch (err) {
      if (err instanceof DataverseNotFoundError) return false;
      throw err;
    }
  }

  /**
   * Whether the table behind `entitySet` accepts `If-Match: <etag>` (`IsOptimisticConcurrencyEnabled`): asked once per
   * table and remembered, since a table's setting does not change under a running connector.
   */
  async hasOptimisticConcurrency(entitySet: string): Promise<boolean> {
    return (await this.tableOf(entitySet)).optimisticConcurrency;
  }

  /**
   * What the bulk messages and conditional writes need to know of the table behind `entitySet`, read once from its
   * entity definition and remembered: a table's names and settings do not change under a running connector.
   */
  private tableOf(entitySet: string): Promise<TableFacts> {
    let known = this.tables.get(entitySet);
    if (!known) {
      known = this.execute('GET', 'EntityDefinitions', {
        query: `$select=LogicalName,PrimaryIdAttribute,IsOptimisticConcurrencyEnabled&$filter=EntitySetName eq '${entitySet.replace(/'/g, "''")}'`,
      }).then((res) => {
        const value = isRow(res.body) && Array.isArray(res.body.value) ? (res.body.value as unknown[]) : [];
        const first = value.find(isRow);
        return {
          logicalName: typeof first?.LogicalName === 'string' ? first.LogicalName : undefined,
          primaryIdAttribute: typeof first?.PrimaryIdAttribute === 'string' ? first.PrimaryIdAttribute : undefined,
          optimisticConcurrency: first?.IsOptimisticConcurrencyEnabled !== false,
        };
      });
      // A failed look-up is asked again next time rather than remembered.
      known.catch(() => this.tables.delete(entitySet));
      this.tables.set(entitySet, known);
    }
    return known;
  }

  // ---- bulk messages ------------------------------------------------------------------------------------

  /**
   * CreateMultiple: the rows in one request that counts once toward the request limit while each row costs server
   * time. On a standard table it is all or nothing: one bad row fails the call with that row's error and nothing is
   * written. Ids come back in the rows' order.
   */
  async createMultiple(entitySet: string, rows: readonly DataverseRow[]): Promise<string[]> {
    const table = await this.bulkTable(entitySet, 'CreateMultiple');
    const res = await this.bulkSend(
      entitySet,
      'CreateMultiple',
      rows.map((row) => ({ ...typed(table), ...row })),
    );
    return idsOf(res);
  }

  /** UpdateMultiple by id; all or nothing as `createMultiple`. A missing row fails the call (it never creates). */
  async updateMultiple(entitySet: string, rows: ReadonlyArray<{ id: string; row: DataverseRow }>): Promise<void> {
    const table = await this.bulkTable(entitySet, 'UpdateMultiple');
    const primaryId = table.primaryIdAttribute ?? primaryKeyGuess(entitySet);
    await this.bulkSend(
      entitySet,
      'UpdateMultiple',
      rows.map(({ id, row }) => ({ ...typed(table), ...row, [primaryId]: id.toLowerCase() })),
    );
  }

  /**
   * UpsertMultiple by alternate key (each target addressed by `@odata.id`, key columns left out of its body as in
   * `upsertByKey`); all or nothing as `createMultiple`. Ids come back in the rows' order.
   */
  async upsertMultiple(
    entitySet: string,
    rows: ReadonlyArray<{ key: AlternateKey; row: DataverseRow }>,
  ): Promise<string[]> {
    const table = await this.bulkTable(entitySet, 'UpsertMultiple');
    const targets = rows.map(({ key, row }) => {
      const payload: DataverseRow = { ...typed(table), ...row };
      for (const column of Object.keys(key)) delete payload[column];
      return { ...payload, '@odata.id': entityAddress(entitySet, key, this.connection) };
    });
    return idsOf(await this.bulkSend(entitySet, 'UpsertMultiple', targets));
  }

  private async bulkTable(entitySet: string, message: string): Promise<TableFacts> {
    const table = await this.tableOf(entitySet);
    if (!table.logicalName) throw this.protocolError('POST', `${entitySet}/${message}`, 'no entity definition found');
    return table;
  }

  private async bulkSend(entitySet: string, message: string, targets: DataverseRow[]): Promise<RawResponse> {
    if (targets.length === 0) throw new RangeError(`${message} needs at least one row`);
    return this.send({
      method: 'POST',
      path: `${entitySet}/Microsoft.Dynamics.CRM.${message}`,
      query: this.writeQuery({}),
      body: JSON.stringify({ Targets: targets }),
      weight: { rows: targets.length },
    });
  }

  // ---- reads --------------------------------------------------------------------------------------------

  /** One row by id or alternate key; null when it does not exist. The row carries `@odata.etag`. */
  async retrieve(
    entitySet: string,
    idOrKey: string | AlternateKey,
    options: { select?: readonly string[]; expand?: string } = {},
  ): Promise<DataverseRow | null> {
    try {
      const res = await this.send({
        method: 'GET',
        path: entityAddress(entitySet, idOrKey, this.connection),
        query: queryString(options),
      });
      return parseRow(res.text);
    } catch (err) {
      if (err instanceof DataverseNotFoundError) return null;
      throw err;
    }
  }

  /** Pages of rows, following `@odata.nextLink` unmodified until the server stops sending one (reference §4.2). */
  async *query(entitySet: string, options: QueryPageOptions = {}): AsyncGenerator<DataverseRow[], void, undefined> {
    const headers: Record<string, string> = {};
    if (options.pageSize !== undefined) headers.Prefer = `odata.maxpagesize=${options.pageSize}`;
    let next: SendRequest | undefined = { method: 'GET', path: entitySet, query: queryString(options), headers };
    while (next) {
      const res = await this.send(next);
      const page = parseRow(res.text);
      const value = page.value;
      if (!Array.isArray(value)) throw this.protocolError('GET', entitySet, 'collection response without "value"');
      yield value.filter(isRow);
      const link = page['@odata.nextLink'];
      next = typeof link === 'string' && link ? { method: 'GET', path: link, headers } : undefined;
    }
  }

  /** Every row of a query, one at a time. */
  async *queryRows(entitySet: string, options: QueryPageOptions = {}): AsyncGenerator<DataverseRow, void, undefined> {
    for await (const page of this.query(entitySet, options)) yield* page;
  }

  /** Escape hatch for the metadata API and actions: JSON in, JSON (or null for 204) out, same retries and errors. */
  async execute(
    method: BatchMethod,
    path: string,
    options: { query?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
    const isWrite = method !== 'GET';
    const query = [options.query, isWrite ? this.writeQuery({}) : ''].filter(Boolean).join('&');
    const res = await this.send({
      method,
      path,
      query,
      headers: options.headers ?? {},
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    return { status: res.status, headers: res.headers, body: res.text ? parseJson(res.text) : null };
  }

  // ---- diff before write --------------------------------------------------------------------------------

  /**
   * Read the row and its ETag, let `mutate` compute only what differs (null or {} = nothing to do), and PATCH with
   * `If-Match`. A 412 means someone else wrote in between: read again and recompute, a bounded number of times.
   */
  async updateWithRetry(
    entitySet: string,
    id: string,
    mutate: (row: DataverseRow) => DataverseRow | null,
    options: UpdateWithRetryOptions = {},
  ): Promise<{ changed: boolean; attempts: number }> {
    const maxAttempts = options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt += 1) {
      const row = options.read
        ? await options.read()
        : await this.retrieve(entitySet, id, options.select ? { select: options.select } : {});
      if (!row) {
        throw new DataverseNotFoundError({
          connection: this.connection,
          status: 404,
          code: '',
          method: 'GET',
          path: entityAddress(entitySet, id, this.connection),
          message: `${entitySet} row ${id} does not exist`,
        });
      }
      const patch = mutate(row);
      if (!patch || Object.keys(patch).length === 0) return { changed: false, attempts: attempt };
      const etag = row['@odata.etag'];
      try {
        if (options.write) await options.write(id, patch, typeof etag === 'string' ? etag : undefined);
        else await this.update(entitySet, id, patch, typeof etag === 'string' ? { etag } : {});
        return { changed: true, attempts: attempt };
      } catch (err) {
        if (!(err instanceof DataverseConcurrencyError) || attempt >= maxAttempts) throw err;
        this.log.info({ entitySet, id, attempt }, 'row changed since read; re-reading before retrying the update');
      }
    }
  }

  // ---- $batch -------------------------------------------------------------------------------------------

  /**
   * Sends operations as one `$batch`. With `atomic` (default) every write goes into one change set — all commit or
   * none does, and a failure throws the mapped error; GETs (not allowed in change sets) follow it. Without `atomic`
   * each operation stands alone and failures come back per operation. Results are in the caller's order.
   */
  async batch(
    operations: readonly BatchOperation[],
    options: { atomic?: boolean } = {},
  ): Promise<BatchOperationResult[]> {
    if (operations.length === 0) return [];
    if (operations.length > 1000) throw new RangeError('a Dataverse $batch holds at most 1000 operations');
    const atomic = options.atomic ?? true;
    const changeSet: BatchRequestPart[] = [];
    const standalone: BatchRequestPart[] = [];
    operations.forEach((op, index) => {
      const isWrite = op.method !== 'GET';
      const headers: Record<string, string> = isWrite
        ? { 'Content-Type': 'application/json', ...op.headers }
        : { Accept: 'application/json', ...op.headers };
      const part: BatchRequestPart = {
        method: op.method,
        url: this.batchUrl(op.path, isWrite),
        headers,
        contentId: String(index + 1),
        ...(op.body !== undefined ? { body: JSON.stringify(op.body) } : {}),
      };
      (atomic && isWrite ? changeSet : standalone).push(part);
    });
    const encoded = encodeBatch(changeSet, standalone);
    const res = await this.send({
      method: 'POST',
      path: '$batch',
      headers: { 'Content-Type': encoded.contentType, ...(atomic ? {} : { Prefer: 'odata.continue-on-error' }) },
      body: encoded.body,
      multipartFailure: true,
      weight: { operations: operations.length },
    });
    const parts = decodeBatchResponse(res.text, res.headers['content-type']);

    const ordered = [...changeSet, ...standalone];
    if (atomic || res.status >= 400) {
      // Without continue-on-error the first failure ends the batch (a failed change set answers with one error part in
      // place of all its operations): the whole call fails with that part's error, its Dataverse code preserved.
      const failed = parts.find((p) => p.status >= 400);
      if (failed) {
        const op = ordered.find((o) => o.contentId === failed.contentId) ?? changeSet[0];
        throw mapDataverseError({
          connection: this.connection,
          method: op?.method,
          path: op ? this.relativePath(op.url) : '$batch',
          status: failed.status,
          bodyText: failed.bodyText,
        });
      }
    }
    if (parts.length !== ordered.length) {
      throw this.protocolError('POST', '$batch', `expected ${ordered.length} responses, got ${parts.length}`);
    }
    const results: BatchOperationResult[] = new Array<BatchOperationResult>(operations.length);
    parts.forEach((p, i) => {
      const req = ordered[i];
      const contentId = p.contentId ?? req?.contentId ?? String(i + 1);
      const index = Number(req?.contentId ?? contentId) - 1;
      results[index] = {
        status: p.status,
        headers: p.headers,
        body: p.bodyText ? parseJson(p.bodyText) : null,
        id: idFromEntityUrl(p.headers['odata-entityid']),
        contentId: req?.contentId ?? contentId,
        ...(p.status >= 400
          ? {
              error: mapDataverseError({
                connection: this.connection,
                method: req?.method,
                path: req ? this.relativePath(req.url) : '$batch',
                status: p.status,
                bodyText: p.bodyText,
              }),
            }
          : {}),
      };
    });
    return results;
  }

  // ---- transport ----------------------------------------------------------------------------------------

  private async send(req: SendRequest): Promise<RawResponse> {
    const attempt = this.attempt ?? this.attemptOf?.();
    if (attempt === undefined) return this.sendFor(req, undefined);
    // Heartbeat while the request waits (governor queue, Retry-After pause) or runs, so a throttled activity is not
    // taken for a dead one; Temporal throttles the heartbeats it forwards.
    attempt.heartbeat?.();
    const beat = attempt.heartbeat ? setInterval(attempt.heartbeat, 5_000) : undefined;
    beat?.unref();
    try {
      return await this.sendFor(req, attempt.signal);
    } finally {
      if (beat) clearInterval(beat);
    }
  }

  private async sendFor(req: SendRequest, signal: AbortSignal | undefined): Promise<RawResponse> {
    const url = this.resolve(req.path, req.query);
    const path = this.relativePath(url);
    const headers: Record<string, string> = { ...ODATA_HEADERS, ...req.headers };
    if (req.body !== undefined && !hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
    if (req.method === 'GET' && !hasHeader(headers, 'if-none-match')) headers['If-None-Match'] = 'null';
    const cancelled = (): DataverseCancelledError =>
      new DataverseCancelledError({
        ...this.ctx(req.method, path),
        status: 0,
        code: '',
        message: 'the activity attempt was cancelled; the request was not sent or was aborted',
      });

    let renewedToken = false;
    for (let throttles = 0; ;) {
      if (signal?.aborted) throw cancelled();
      // Checked again when the governor starts the request: no write leaves after its attempt was cancelled.
      const started = this.governor.run(() => {
        if (signal?.aborted) return Promise.reject(cancelled());
        return this.once(req.method, url, headers, req.body, path, signal);
      }, req.weight ?? {});
      const res = signal ? await untilAborted(started, signal, cancelled) : await started;
      if (res.status === 401 && !renewedToken) {
        renewedToken = true;
        this.tokens.invalidate();
        this.log.info({ method: req.method, path }, 'token refused; renewing once');
        continue;
      }
      if (res.status === 429 || res.status === 503) {
        throttles += 1;
        // Without Retry-After the back-off doubles, but never past maxRetryAfterMs: a wait longer than the activity's
        // timeout would outlive the attempt. A longer Retry-After from Dataverse is honoured by the governor, and this
        // call gives up at once so the activity's own retry does the waiting.
        const retryAfterMs = parseRetryAfter(
          res.headers['retry-after'],
          Math.min(this.defaultRetryAfterMs * 2 ** (throttles - 1), this.maxRetryAfterMs),
        );
        this.governor.throttled(retryAfterMs);
        if (this.throttlesToCaller || throttles > this.maxThrottleRetries || retryAfterMs > this.maxRetryAfterMs) {
          throw mapDataverseError({
            ...this.ctx(req.method, path),
            status: res.status,
            bodyText: res.text,
            retryAfterMs,
          });
        }
        this.log.warn(
          { method: req.method, path, status: res.status, retryAfterMs, attempt: throttles },
          'throttled by Dataverse',
        );
        continue;
      }
      if (
        res.status >= 400 &&
        !(req.multipartFailure && /^multipart\/mixed/i.test(res.headers['content-type'] ?? ''))
      ) {
        throw mapDataverseError({
          ...this.ctx(req.method, path),
          status: res.status,
          bodyText: res.text,
          ...(req.condition ? { condition: req.condition } : {}),
        });
      }
      return res;
    }
  }

  private async once(
    method: BatchMethod,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    const token = await this.tokens.getToken();
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        headers: { ...headers, Authorization: `Bearer ${token}` },
        body,
        dispatcher: this.dispatcher,
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: this.requestTimeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) {
        throw new DataverseCancelledError({
          ...this.ctx(method, path),
          status: 0,
          code: '',
          message: 'the activity attempt was cancelled while the request was in flight; it was aborted',
        });
      }
      // Network failures carry undici's message only: never the request options (which hold the token).
      throw new DataverseError({
        ...this.ctx(method, path),
        status: 0,
        code: err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '',
        message: `request failed: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    const text = await response.body.text();
    return { status: response.statusCode, headers: flattenHeaders(response.headers), text };
  }

  /** Next links are absolute; refuse any that leave this Web API, since they would carry our token elsewhere. */
  private resolve(path: string, query: string | undefined): string {
    let url: string;
    if (/^https?:\/\//i.test(path)) {
      if (!path.startsWith(`${this.webApiUrl}/`)) {
        throw this.protocolError('GET', path.slice(0, 80), `refusing to follow a link outside ${this.webApiUrl}`);
      }
      url = path;
    } else {
      url = `${this.webApiUrl}/${path.replace(/^\/+/, '')}`;
    }
    if (!query) return url;
    return `${url}${url.includes('?') ? '&' : '?'}${query}`;
  }

  private relativePath(url: string): string {
    const noQuery = url.split('?')[0] ?? url;
    return noQuery.startsWith(`${this.webApiUrl}/`) ? noQuery.slice(this.webApiUrl.length + 1) : noQuery;
  }

  private batchUrl(path: string, isWrite: boolean): string {
    if (path.startsWith('$')) return path;
    // A request line cannot carry raw spaces (e.g. inside $filter): let URL percent-encode what needs it.
    const url = new URL(this.resolve(path, undefined)).href;
    return isWrite && this.tag ? `${url}${url.includes('?') ? '&' : '?'}tag=${encodeURIComponent(this.tag)}` : url;
  }

  private writeQuery(options: ReturnOptions): string {
    const parts: string[] = [];
    if (options.returnRepresentation && options.select?.length) parts.push(queryString({ select: options.select }));
    if (this.tag) parts.push(`tag=${encodeURIComponent(this.tag)}`);
    return parts.join('&');
  }

  private preferReturn(options: ReturnOptions): Record<string, string> {
    return options.returnRepresentation ? { Prefer: 'return=representation' } : {};
  }

  private ctx(method: string, path: string): { connection: string; method: string; path: string } {
    return { connection: this.connection, method, path };
  }

  private protocolError(method: string, path: string, message: string): DataverseError {
    return new DataverseError({ ...this.ctx(method, path), status: 0, code: '', message });
  }
}

function writeResult(res: RawResponse, entitySet: string): WriteResult {
  const result: WriteResult = { id: idFromEntityUrl(res.headers['odata-entityid']) };
  if (res.text) {
    const row = parseRow(res.text);
    result.row = row;
    const etag = row['@odata.etag'];
    if (typeof etag === 'string') result.etag = etag;
    if (!result.id) {
      const guess = row[primaryKeyGuess(entitySet)];
      if (typeof guess === 'string') result.id = guess.toLowerCase();
    }
  }
  if (!result.etag && res.headers.etag) result.etag = res.headers.etag;
  return result;
}

/** The `@odata.type` every target of a bulk message carries. */
function typed(table: TableFacts): DataverseRow {
  return { '@odata.type': `Microsoft.Dynamics.CRM.${table.logicalName ?? ''}` };
}

function idsOf(res: RawResponse): string[] {
  const ids = parseRow(res.text).Ids;
  return Array.isArray(ids) ? ids.map((id) => String(id).toLowerCase()) : [];
}

/** `accounts` → `accountid`, `salesorderdetails` → `salesorderdetailid`: true for every table this connector writes. */
function primaryKeyGuess(entitySet: string): string {
  return `${entitySet.replace(/s$/, '')}id`;
}

/** Seconds (possibly fractional) or an HTTP date; falls back when absent or unreadable. */
function parseRetryAfter(value: string | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  return fallbackMs;
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseRow(text: string): DataverseRow {
  const parsed = parseJson(text);
  return isRow(parsed) ? parsed : {};
}

function isRow(v: unknown): v is DataverseRow {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
