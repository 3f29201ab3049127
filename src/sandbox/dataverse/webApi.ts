import { badRequest, DataverseError, ErrorCodes, notFound } from './dataverseError';
import {
  compareSortValues,
  evaluateFilter,
  parseExpand,
  parseFilter,
  parseOrderBy,
  parseSelect,
  sortValue,
  type ExpandClause,
  type OrderClause,
} from './odataQuery';
import { parseKeySegment, type RecordService, type WriteContext } from './records';
import { isGuid } from './deterministicId';
import { AnnotationFilter, etagOf, serializeRow } from './representation';
import { columnForProperty, isLookupValue, propertyName, type Row } from './row';
import { type ColumnDefinition, type TableDefinition } from './schema';

export interface ApiRequest {
  method: string;
  /** Path below the Web API root, e.g. `accounts(…)`, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: string;
  /** The app registration (client id) whose token the request carried: who the request runs as. */
  caller?: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** Something that answers paths the record service does not own (metadata, actions). */
export type ApiExtension = (request: ApiRequest, segments: string[], webApiUrl: string) => ApiResponse | undefined;

/** The Sales solution's order messages the sandbox implements (see `WebApi.salesMessage`). */
const SALES_MESSAGES: ReadonlySet<string> = new Set([
  'ConvertSalesOrderToInvoice',
  'FulfillSalesOrder',
  'CancelSalesOrder',
]);

const DEFAULT_PAGE_SIZE = 5000;
const MAX_TOP = 5000;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0', ...headers },
    body: JSON.stringify(body),
  };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'OData-Version': '4.0', ...headers } };
}

export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim().length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(ErrorCodes.invalidProperty, 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw badRequest(ErrorCodes.invalidProperty, 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** Splits `a/b(x='1/2')/c` on slashes outside parentheses and quotes. */
function splitPath(path: string): string[] {
  const segments: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  for (const ch of path) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') depth += 1;
    if (!quoted && ch === ')') depth -= 1;
    if (ch === '/' && depth === 0 && !quoted) {
      if (current.length > 0) segments.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.length > 0) segments.push(current);
  return segments;
}

interface Cursor {
  values: Array<string | number | boolean | null>;
  id: string;
  page: number;
}

function encodeQueryValue(value: string): string {
  return encodeURIComponent(value)
    .replace(/%24/g, '$')
    .replace(/%2C/gi, ',')
    .replace(/%27/g, "'")
    .replace(/%28/g, '(')
    .replace(/%29/g, ')');
}

/** The paging cookie mirrors Dataverse's shape; the sort values of the last row ride along so paging survives inserts. */
function buildSkipToken(table: TableDefinition, cursor: Cursor, firstId: string): string {
  const sort = Buffer.from(JSON.stringify(cursor.values)).toString('base64url');
  const inner = `<cookie page="${cursor.page - 1}"><${table.primaryKey} last="{${cursor.id.toUpperCase()}}" first="{${firstId.toUpperCase()}}" sort="${sort}" /></cookie>`;
  return `<cookie pagenumber="${cursor.page}" pagingcookie="${encodeURIComponent(inner).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())}" istracking="False" />`;
}

function parseSkipToken(token: string): Cursor {
  const invalid = (): DataverseError =>
    badRequest(ErrorCodes.invalidArgument, 'The $skiptoken paging cookie is invalid.');
  const page = /pagenumber="(\d+)"/.exec(token)?.[1];
  const cookie = /pagingcookie="([^"]*)"/.exec(token)?.[1];
  if (page === undefined || cookie === undefined) throw invalid();
  let inner: string;
  try {
    inner = decodeURIComponent(cookie);
  } catch {
    throw invalid();
  }
  const id = /last="\{([0-9a-fA-F-]{36})\}"/.exec(inner)?.[1];
  const sort = /sort="([^"]*)"/.exec(inner)?.[1];
  if (id === undefined || sort === undefined) throw invalid();
  try {
    const values = JSON.parse(Buffer.from(sort, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(values)) throw invalid();
    return { values: values as Cursor['values'], id: id.toLowerCase(), page: Number(page) };
  } catch {
    throw invalid();
  }
}

function pageSizeFrom(prefer: string | undefined): number | undefined {
  const match = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer ?? '');
  if (match?.[1] === undefined) return undefined;
  return Math.min(Math.max(Number(match[1]), 1), DEFAULT_PAGE_SIZE);
}

function wantsRepresentation(prefer: string | undefined): boolean {
  return /return\s*=\s*representation/i.test(prefer ?? '');
}

interface QueryShape {
  select?: ColumnDefinition[];
  expand: ExpandClause[];
}

type BulkMessage = 'CreateMultiple' | 'UpdateMultiple' | 'UpsertMultiple';

/**
 * Tables the sandbox offers CreateMultiple / UpdateMultiple / UpsertMultiple on. Dataverse lists the tables per
 * message in its SDK message filters; which of its standard tables have them is an assumption here (the order-line
 * table does per the table reference, the others the connector writes are taken to).
 */
const BULK_TABLES: ReadonlySet<string> = new Set(['account', 'contact', 'product', 'salesorder', 'salesorderdetail']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Routes one Web API request to records, queries or an extension. Used directly and for each `$batch` part. */
export class WebApi {
  constructor(
    private readonly records: RecordService,
    private readonly webApiUrl: string,
    private readonly extensions: ApiExtension[],
  ) {}

  private get schema() {
    return this.records.schema;
  }

  private get store() {
    return this.records.store;
  }

  tableForSet(entitySet: string): string {
    return this.records.tableBySet(entitySet).logicalName;
  }

  entityUrl(table: TableDefinition, id: string): string {
    return `${this.webApiUrl}${table.entitySet}(${id})`;
  }

  handle(request: ApiRequest, context: WriteContext): ApiResponse {
    if (context.work !== undefined) context.work.operations += 1;
    const segments = splitPath(request.path);
    for (const extension of this.extensions) {
      const response = extension(request, segments, this.webApiUrl);
      if (response !== undefined) return response;
    }
    const [first, second, ...rest] = segments;
    if (first === 'WinOpportunity' && second === undefined) {
      if (request.method.toUpperCase() !== 'POST')
        throw new DataverseError(
          405,
          '',
          `The HTTP method '${request.method}' is not allowed on the action 'WinOpportunity'.`,
        );
      this.records.winOpportunity(parseJsonBody(request.body), context);
      return emptyResponse(204);
    }
    if (first !== undefined && second === undefined && SALES_MESSAGES.has(first)) {
      if (request.method.toUpperCase() !== 'POST')
        throw new DataverseError(405, '', `${first} is an action: only POST is allowed.`);
      return this.salesMessage(first, request, context);
    }
    if (first === undefined)
      return jsonResponse(200, {
        '@odata.context': `${this.webApiUrl}$metadata`,
        value: [...this.schema.bySet.keys()].map((name) => ({ name, kind: 'EntitySet', url: name })),
      });
    if (rest.length > 0) throw new DataverseError(404, '', `Resource not found for the segment '${rest[0] ?? ''}'.`);
    const match = /^([A-Za-z_]\w*)(?:\((.*)\))?$/s.exec(decodeURIComponent(first));
    if (match?.[1] === undefined) throw new DataverseError(404, '', `Resource not found for the segment '${first}'.`);
    const table = this.records.tableBySet(match[1]);
    const keyText = match[2];
    const method = request.method.toUpperCase();
    if (keyText === undefined) {
      if (second === '$count' && method === 'GET') return this.count(table, request);
      const bulk = /^Microsoft\.Dynamics\.CRM\.((?:Create|Update|Upsert)Multiple)$/.exec(second ?? '')?.[1];
      if (bulk !== undefined && method === 'POST') return this.bulk(table, bulk as BulkMessage, request, context);
      if (second !== undefined) throw new DataverseError(404, '', `Resource not found for the segment '${second}'.`);
      if (method === 'GET') return this.query(table, request);
      if (method === 'POST') return this.create(table, request, context);
      throw new DataverseError(
        405,
        '',
        `The HTTP method '${method}' is not allowed on the entity set '${table.entitySet}'.`,
      );
    }
    const pairs = parseKeySegment(keyText);
    if (second !== undefined) return this.property(table, pairs, decodeURIComponent(second), request, context);
    switch (method) {
      case 'GET':
        return this.retrieve(table, pairs, request);
      case 'PATCH':
        return this.upsert(table, pairs, keyText, request, context);
      case 'DELETE':
        return this.remove(table, pairs, keyText, request, context);
      default:
        throw new DataverseError(
          405,
          '',
          `The HTTP method '${method}' is not allowed on a single ${table.logicalName}.`,
        );
    }
  }

  /**
   * The order messages of the Sales solution (unbound actions, `POST [org]/api/data/v9.2/<message>`):
   * `ConvertSalesOrderToInvoice` {SalesOrderId, ColumnSet} answers the new invoice; `FulfillSalesOrder` and
   * `CancelSalesOrder` {OrderClose (an orderclose entity bound to its order), Status} answer 204.
   */
  private salesMessage(message: string, request: ApiRequest, context: WriteContext): ApiResponse {
    const body = parseJsonBody(request.body);
    if (message === 'ConvertSalesOrderToInvoice') {
      const orderId = typeof body.SalesOrderId === 'string' ? body.SalesOrderId.toLowerCase() : '';
      if (!isGuid(orderId))
        throw badRequest(ErrorCodes.requiredMissing, 'ConvertSalesOrderToInvoice needs SalesOrderId (Edm.Guid).');
      const invoices = this.schema.table('invoice');
      const row = this.records.convertSalesOrderToInvoice(orderId, context);
      const columnSet = isRecord(body.ColumnSet) ? body.ColumnSet : {};
      const columns = Array.isArray(columnSet.Columns) ? columnSet.Columns.filter((c) => typeof c === 'string') : [];
      const shape: QueryShape =
        columnSet.AllColumns === true || columns.length === 0
          ? { expand: [] }
          : { select: parseSelect([...new Set([invoices.primaryKey, ...columns])].join(','), invoices), expand: [] };
      return jsonResponse(200, {
        '@odata.context': `${this.webApiUrl}$metadata#invoices/$entity`,
        ...this.render(invoices, row, shape, new AnnotationFilter(request.headers.prefer)),
      });
    }
    const close = isRecord(body.OrderClose) ? body.OrderClose : undefined;
    const bound = typeof close?.['salesorderid@odata.bind'] === 'string' ? close['salesorderid@odata.bind'] : '';
    const orderId = /salesorders\(([^)]+)\)$/.exec(bound)?.[1]?.toLowerCase();
    if (orderId === undefined || !isGuid(orderId))
      throw badRequest(
        ErrorCodes.requiredMissing,
        `${message} needs OrderClose with "salesorderid@odata.bind": "/salesorders(<id>)".`,
      );
    if (typeof body.Status !== 'number')
      throw badRequest(ErrorCodes.requiredMissing, `${message} needs Status (the order's new status reason, or -1).`);
    this.records.closeSalesOrder(
      orderId,
      message === 'FulfillSalesOrder' ? 'Fulfilled' : 'Canceled',
      body.Status,
      context,
    );
    return emptyResponse(204);
  }

  private shape(table: TableDefinition, query: URLSearchParams): QueryShape {
    const select = query.get('$select');
    const expand = query.get('$expand');
    return {
      ...(select !== null && select.trim() !== '' ? { select: parseSelect(select, table) } : {}),
      expand: expand !== null && expand.trim() !== '' ? parseExpand(expand) : [],
    };
  }

  private contextUrl(table: TableDefinition, shape: QueryShape, entity: boolean): string {
    const parts = [...(shape.select?.map(propertyName) ?? [])];
    for (const clause of shape.expand) {
      const childSelect = clause.options.get('$select');
      parts.push(`${clause.navigation}(${childSelect ?? ''})`);
    }
    const list = parts.length > 0 ? `(${parts.join(',')})` : '';
    return `${this.webApiUrl}$metadata#${table.entitySet}${list}${entity ? '/$entity' : ''}`;
  }

  private render(
    table: TableDefinition,
    row: Row,
    shape: QueryShape,
    annotations: AnnotationFilter,
  ): Record<string, unknown> {
    const out = serializeRow(this.schema, this.store, table, row, shape.select, annotations);
    for (const clause of shape.expand) out[clause.navigation] = this.expand(table, row, clause, annotations);
    return out;
  }

  private expand(table: TableDefinition, row: Row, clause: ExpandClause, annotations: AnnotationFilter): unknown {
    const id = String(row[table.primaryKey]);
    const collection = table.collections.find((c) => c.name === clause.navigation);
    const childQuery = new URLSearchParams();
    for (const [k, v] of clause.options) childQuery.set(k, v);
    if (collection !== undefined) {
      const child = this.schema.table(collection.table);
      let rows = this.store.all(child.logicalName).filter((r) => {
        const ref = r[collection.lookup];
        return isLookupValue(ref) && ref.id === id;
      });
      const filter = childQuery.get('$filter');
      if (filter !== null) {
        const expression = parseFilter(filter, child);
        rows = rows.filter((r) => evaluateFilter(expression, r));
      }
      const orderBy = childQuery.get('$orderby');
      rows = this.sort(child, rows, orderBy === null ? [] : parseOrderBy(orderBy, child));
      const top = childQuery.get('$top');
      if (top !== null) rows = rows.slice(0, Number(top));
      const shape = this.shape(child, childQuery);
      return rows.map((r) => this.render(child, r, shape, annotations));
    }
    const navigation = this.schema.navigation(table, clause.navigation);
    if (navigation === undefined) {
      throw badRequest(
        ErrorCodes.invalidProperty,
        `Could not find a property named '${clause.navigation}' on type 'Microsoft.Dynamics.CRM.${table.logicalName}'.`,
      );
    }
    const ref = row[navigation.column.name];
    if (!isLookupValue(ref) || ref.table !== navigation.target.table) return null;
    const target = this.schema.table(ref.table);
    const targetRow = this.store.get(ref.table, ref.id);
    return targetRow === undefined ? null : this.render(target, targetRow, this.shape(target, childQuery), annotations);
  }

  private sort(table: TableDefinition, rows: Row[], order: OrderClause[]): Row[] {
    const pk = table.columns.get(table.primaryKey) as ColumnDefinition;
    const clauses: OrderClause[] = [...order, { column: pk, descending: false }];
    return rows
      .map((row) => ({ row, keys: clauses.map((c) => sortValue(row, c.column)) }))
      .sort((a, b) => {
        for (let i = 0; i < clauses.length; i += 1) {
          const diff = compareSortValues(a.keys[i] ?? null, b.keys[i] ?? null);
          if (diff !== 0) return clauses[i]?.descending === true ? -diff : diff;
        }
        return 0;
      })
      .map((entry) => entry.row);
  }

  private filtered(table: TableDefinition, query: URLSearchParams): Row[] {
    const filter = query.get('$filter');
    const rows = this.store.all(table.logicalName);
    if (filter === null || filter.trim() === '') return rows;
    const expression = parseFilter(filter, table);
    return rows.filter((row) => evaluateFilter(expression, row));
  }

  private count(table: TableDefinition, request: ApiRequest): ApiResponse {
    const total = Math.min(this.filtered(table, request.query).length, MAX_TOP);
    return { status: 200, headers: { 'Content-Type': 'text/plain', 'OData-Version': '4.0' }, body: String(total) };
  }

  private query(table: TableDefinition, request: ApiRequest): ApiResponse {
    const shape = this.shape(table, request.query);
    const annotations = new AnnotationFilter(request.headers.prefer);
    const orderText = request.query.get('$orderby');
    const order = orderText === null ? [] : parseOrderBy(orderText, table);
    const pk = table.columns.get(table.primaryKey) as ColumnDefinition;
    const clauses: OrderClause[] = [...order, { column: pk, descending: false }];
    const matching = this.sort(table, this.filtered(table, request.query), order);
    const headers: Record<string, string> = {};
    const applied: string[] = [];
    const requestedPageSize = pageSizeFrom(request.headers.prefer);
    if (annotations.any) applied.push(`odata.include-annotations="${annotations.raw}"`);

    let page: Row[];
    let nextLink: string | undefined;
    const topText = request.query.get('$top');
    if (topText !== null) {
      const top = Number(topText);
      if (!Number.isInteger(top) || top < 0)
        throw badRequest(ErrorCodes.invalidArgument, `Invalid value '${topText}' for $top query option found.`);
      page = matching.slice(0, Math.min(top, MAX_TOP));
    } else {
      const pageSize = requestedPageSize ?? DEFAULT_PAGE_SIZE;
      if (requestedPageSize !== undefined) applied.push(`odata.maxpagesize=${requestedPageSize}`);
      const skipToken = request.query.get('$skiptoken');
      let start = 0;
      let pageNumber = 1;
      if (skipToken !== null) {
        const cursor = parseSkipToken(skipToken);
        pageNumber = cursor.page;
        const cursorKeys = [...cursor.values, cursor.id];
        // First row strictly after the cursor in the requested order: rows inserted behind it are not re-sent.
        start = matching.findIndex((row) => {
          for (let i = 0; i < clauses.length; i += 1) {
            const clause = clauses[i] as OrderClause;
            const diff = compareSortValues(sortValue(row, clause.column), cursorKeys[i] ?? null);
            if (diff !== 0) return clause.descending ? diff < 0 : diff > 0;
          }
          return false;
        });
        if (start < 0) start = matching.length;
      }
      page = matching.slice(start, start + pageSize);
      const last = page[page.length - 1];
      const firstRow = page[0];
      if (start + pageSize < matching.length && last !== undefined && firstRow !== undefined) {
        const cursor: Cursor = {
          values: order.map((c) => sortValue(last, c.column)),
          id: String(last[table.primaryKey]),
          page: pageNumber + 1,
        };
        const params: string[] = [];
        for (const [k, v] of request.query) if (k !== '$skiptoken') params.push(`${k}=${encodeQueryValue(v)}`);
        params.push(
          `$skiptoken=${encodeURIComponent(buildSkipToken(table, cursor, String(firstRow[table.primaryKey])))}`,
        );
        nextLink = `${this.webApiUrl}${table.entitySet}?${params.join('&')}`;
      }
    }
    if (applied.length > 0) headers['Preference-Applied'] = applied.join(',');
    const body: Record<string, unknown> = { '@odata.context': this.contextUrl(table, shape, false) };
    if (request.query.get('$count') === 'true') body['@odata.count'] = Math.min(matching.length, MAX_TOP);
    body.value = page.map((row) => this.render(table, row, shape, annotations));
    if (nextLink !== undefined) body['@odata.nextLink'] = nextLink;
    return jsonResponse(200, body, headers);
  }

  /**
   * `POST <set>/Microsoft.Dynamics.CRM.<message>` with `{"Targets":[…]}`: one request, every row in one transaction.
   * On a standard table one bad row fails the whole call with that row's error and nothing is written.
   */
  private bulk(table: TableDefinition, message: BulkMessage, request: ApiRequest, context: WriteContext): ApiResponse {
    if (!BULK_TABLES.has(table.logicalName)) {
      throw badRequest(
        ErrorCodes.invalidArgument,
        `The '${message}' message is not supported for entity '${table.logicalName}'.`,
      );
    }
    const targets = parseJsonBody(request.body).Targets;
    if (!Array.isArray(targets) || targets.length === 0)
      throw badRequest(ErrorCodes.invalidArgument, `${message} needs a non-empty Targets collection.`);
    const expectedType = `Microsoft.Dynamics.CRM.${table.logicalName}`;
    if (context.work !== undefined) (context.work.bulkMessages ??= []).push(`${table.entitySet}/${message}`);
    return this.store.transaction(() => {
      const ids: string[] = [];
      for (const target of targets) {
        if (!isRecord(target) || String(target['@odata.type'] ?? '').replace(/^#/, '') !== expectedType)
          throw badRequest(
            ErrorCodes.invalidArgument,
            `Each of the Targets must be typed "@odata.type": "${expectedType}".`,
          );
        if (context.work !== undefined) context.work.rows += 1;
        const { '@odata.type': _type, '@odata.id': address, ...columns } = target;
        if (message === 'CreateMultiple') {
          ids.push(String(this.records.create(table, columns, context)[table.primaryKey]));
          continue;
        }
        const { [table.primaryKey]: idValue, ...changes } = columns;
        let pairs: Array<[string, string | number | boolean | null]>;
        if (typeof idValue === 'string') pairs = [['', idValue]];
        else if (message === 'UpsertMultiple' && typeof address === 'string') {
          const keyText = new RegExp(`^/?${table.entitySet}\\((.*)\\)$`).exec(
            address.replace(/^.*\/api\/data\/v9\.\d\//, ''),
          )?.[1];
          if (keyText === undefined)
            throw badRequest(
              ErrorCodes.invalidArgument,
              `The target address '${address}' is not a ${table.entitySet} record.`,
            );
          pairs = parseKeySegment(keyText);
        } else {
          throw badRequest(
            ErrorCodes.requiredMissing,
            `Each target of ${message} needs ${table.primaryKey}${message === 'UpsertMultiple' ? ' or an @odata.id with its alternate key' : ''}.`,
          );
        }
        const existing = this.records.find(table, pairs);
        if (message === 'UpdateMultiple') {
          if (existing === undefined) throw notFound(table.logicalName, this.describeKey(pairs));
          this.records.update(table, existing, changes, context);
          ids.push(String(existing[table.primaryKey]));
          continue;
        }
        const keyColumns = this.records.keyColumns(table, pairs);
        const row =
          existing !== undefined
            ? this.records.update(
                table,
                existing,
                Object.fromEntries(Object.entries(changes).filter(([k]) => !(k in keyColumns))),
                context,
              )
            : pairs[0]?.[0] === ''
              ? this.records.create(table, changes, context, {}, String(pairs[0][1]))
              : this.records.create(table, changes, context, keyColumns);
        ids.push(String(row[table.primaryKey]));
      }
      if (message === 'UpdateMultiple') return emptyResponse(204);
      return jsonResponse(200, {
        '@odata.context': `${this.webApiUrl}$metadata#Microsoft.Dynamics.CRM.${message}Response`,
        Ids: ids,
      });
    });
  }

  private describeKey(pairs: Array<[string, unknown]>): string {
    return pairs.map(([k, v]) => (k === '' ? String(v) : `${k}:${String(v)}`)).join(',');
  }

  private existing(table: TableDefinition, pairs: Array<[string, string | number | boolean | null]>): Row {
    const row = this.records.find(table, pairs);
    if (row === undefined) throw notFound(table.logicalName, this.describeKey(pairs));
    return row;
  }

  private retrieve(
    table: TableDefinition,
    pairs: Array<[string, string | number | boolean | null]>,
    request: ApiRequest,
  ): ApiResponse {
    const row = this.existing(table, pairs);
    const shape = this.shape(table, request.query);
    const annotations = new AnnotationFilter(request.headers.prefer);
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch === etagOf(row) && shape.expand.length === 0 && !annotations.any) {
      return emptyResponse(304, { ETag: etagOf(row) });
    }
    const body = {
      '@odata.context': this.contextUrl(table, shape, true),
      ...this.render(table, row, shape, annotations),
    };
    const headers: Record<string, string> = { ETag: etagOf(row) };
    if (annotations.any) headers['Preference-Applied'] = `odata.include-annotations="${annotations.raw}"`;
    return jsonResponse(200, body, headers);
  }

  private written(table: TableDefinition, row: Row, created: boolean, request: ApiRequest): ApiResponse {
    const id = String(row[table.primaryKey]);
    const entityId = this.entityUrl(table, id);
    if (wantsRepresentation(request.headers.prefer)) {
      const shape: QueryShape = { ...this.shape(table, request.query), expand: [] };
      const annotations = new AnnotationFilter(request.headers.prefer);
      const body = {
        '@odata.context': this.contextUrl(table, shape, true),
        ...this.render(table, row, shape, annotations),
      };
      return jsonResponse(created ? 201 : 200, body, {
        'OData-EntityId': entityId,
        ETag: etagOf(row),
        'Preference-Applied': 'return=representation',
      });
    }
    return emptyResponse(204, { 'OData-EntityId': entityId });
  }

  private create(table: TableDefinition, request: ApiRequest, context: WriteContext): ApiResponse {
    const row = this.records.create(table, parseJsonBody(request.body), context);
    return this.written(table, row, true, request);
  }

  private checkIfMatch(table: TableDefinition, row: Row, ifMatch: string | undefined): void {
    if (ifMatch !== undefined && ifMatch !== '*' && !table.optimisticConcurrency) {
      throw badRequest(
        ErrorCodes.optimisticConcurrencyNotEnabled,
        `The optimistic concurrency is not enabled for the entity ${table.logicalName}; the request cannot carry a row version (If-Match).`,
      );
    }
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etagOf(row)) {
      throw new DataverseError(
        412,
        '',
        "The version of the existing record doesn't match the RowVersion property provided.",
      );
    }
  }

  private upsert(
    table: TableDefinition,
    pairs: Array<[string, string | number | boolean | null]>,
    keyText: string,
    request: ApiRequest,
    context: WriteContext,
  ): ApiResponse {
    const body = parseJsonBody(request.body);
    const existing = this.records.find(table, pairs);
    const ifMatch = request.headers['if-match'];
    const ifNoneMatch = request.headers['if-none-match'];
    if (existing !== undefined) {
      if (ifNoneMatch === '*') throw new DataverseError(412, '', 'A record with matching key values already exists.');
      this.checkIfMatch(table, existing, ifMatch);
      // Key columns in the body are discarded on update (reference §3.2).
      const keyColumns = new Set(Object.keys(this.records.keyColumns(table, pairs)));
      const updateBody = Object.fromEntries(Object.entries(body).filter(([k]) => !keyColumns.has(k)));
      const row = this.records.update(table, existing, updateBody, context);
      return this.written(table, row, false, request);
    }
    if (ifMatch !== undefined) throw notFound(table.logicalName, this.describeKey(pairs));
    const [first] = pairs;
    const byId =
      pairs.length === 1 && first !== undefined && (first[0] === '' || first[0].toLowerCase() === table.primaryKey);
    const row = byId
      ? this.records.create(table, body, context, {}, String(first[1]))
      : this.records.create(table, body, context, this.records.keyColumns(table, pairs));
    void keyText;
    return this.written(table, row, true, request);
  }

  private remove(
    table: TableDefinition,
    pairs: Array<[string, string | number | boolean | null]>,
    _keyText: string,
    request: ApiRequest,
    context: WriteContext,
  ): ApiResponse {
    const row = this.existing(table, pairs);
    this.checkIfMatch(table, row, request.headers['if-match']);
    this.records.remove(table, row, context);
    return emptyResponse(204);
  }

  /** `GET/PUT/DELETE <set>(<key>)/<column>`: single-column reads and writes. */
  private property(
    table: TableDefinition,
    pairs: Array<[string, string | number | boolean | null]>,
    name: string,
    request: ApiRequest,
    context: WriteContext,
  ): ApiResponse {
    const row = this.existing(table, pairs);
    const column = columnForProperty(table, name) ?? table.columns.get(name.toLowerCase());
    if (column === undefined) throw new DataverseError(404, '', `Resource not found for the segment '${name}'.`);
    const method = request.method.toUpperCase();
    if (method === 'GET') {
      const value = row[column.name] ?? null;
      return jsonResponse(200, {
        '@odata.context': `${this.webApiUrl}$metadata#${table.entitySet}(${String(row[table.primaryKey])})/${propertyName(column)}`,
        value: isLookupValue(value) ? value.id : value,
      });
    }
    if (column.type === 'lookup')
      throw badRequest(ErrorCodes.invalidProperty, `Use ${column.name}@odata.bind to set a lookup.`);
    if (method === 'PUT') {
      const body = parseJsonBody(request.body);
      this.records.update(table, row, { [column.name]: body.value ?? null }, context);
      return emptyResponse(204);
    }
    if (method === 'DELETE') {
      this.records.update(table, row, { [column.name]: null }, context);
      return emptyResponse(204);
    }
    throw new DataverseError(405, '', `The HTTP method '${method}' is not allowed on a property.`);
  }
}
