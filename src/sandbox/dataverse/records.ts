import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { badRequest, DataverseError, ErrorCodes, notFound } from './dataverseError';
import { isGuid } from './deterministicId';
import { splitTopLevel } from './odataQuery';
import { columnForProperty, isLookupValue, type LookupValue, type Row, type StoredValue } from './row';
import { type ColumnDefinition, type Schema, type TableDefinition } from './schema';
import { type RecordStore } from './store';

/** `Win`: the WinOpportunity action (its webhook context carries the OpportunityClose and the Status, no Target). */
export type MessageName = 'Create' | 'Update' | 'Delete' | 'Win';

/** A committed change, handed to webhooks after the transaction that made it. */
export interface ChangeEvent {
  message: MessageName;
  table: string;
  id: string;
  /** Columns the request set (Update) or all populated columns (Create). */
  attributes: string[];
  depth: number;
  /** Win: the OpportunityClose activity the action created and the Won status it was given. */
  close?: { activityId: string; status: number };
}

export interface WriteContext {
  tag?: string;
  /** `$1`-style references inside a batch change set → record address. */
  contentIds?: Map<string, { table: string; id: string }>;
  events: ChangeEvent[];
  /** What the HTTP request asked of the server, for the execution-time charge: operations run and bulk rows written. */
  work?: ServerWork;
}

export interface ServerWork {
  operations: number;
  rows: number;
  /** The bulk messages the request ran (`accounts/UpsertMultiple`, …), so the sandbox can count them. */
  bulkMessages?: string[];
}

export type KeyValue = string | number | boolean | null;

const STATE_COLUMNS = new Set(['statecode', 'statuscode']);

/** Line tables and the header each line belongs to: the header's totals follow its lines. */
interface LineTable {
  header: 'salesorder' | 'opportunity';
  lookup: 'salesorderid' | 'opportunityid';
}
const LINE_TABLES: Readonly<Record<string, LineTable>> = {
  salesorderdetail: { header: 'salesorder', lookup: 'salesorderid' },
  opportunityproduct: { header: 'opportunity', lookup: 'opportunityid' },
};
const LINES_OF: Readonly<Record<string, string>> = {
  salesorder: 'salesorderdetail',
  opportunity: 'opportunityproduct',
};

/** Opportunity states (opportunity table reference). */
const OpportunityState = { Open: 0, Won: 1 } as const;
/** `salesorder.statecode` Active and Submitted: the states in which an order may still be updated. */
const ORDER_EDITABLE_STATES: ReadonlySet<number> = new Set([0, 1]);
/** `salesorder.statecode` values the sales messages move orders to. */
const OrderState = { Active: 0, Submitted: 1, Canceled: 2, Fulfilled: 3, Invoiced: 4 } as const;
/** `invoice.statecode` Active: the only state in which an invoice or its lines may be updated. */
const INVOICE_ACTIVE = 0;

/**
 * An update of a read-only order or invoice. Dataverse's documented error for it is CannotUpdateBecauseItIsReadOnly
 * (`0x8004022e`, "The object cannot be updated because it is read-only."; web service error codes); that the platform
 * answers a closed order or invoice with exactly this code is an assumption (the client shows "Cannot Update a
 * Read-Only Entity"). The row's table and id follow the documented message.
 */
function readOnly(table: string, id: string): DataverseError {
  return badRequest(
    ErrorCodes.readOnlyRecord,
    `The object cannot be updated because it is read-only. (${table} Id = ${id})`,
  );
}

function nowIso(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function money(value: Decimal): number {
  return value.toDecimalPlaces(4).toNumber();
}

function numberOf(value: StoredValue | undefined): Decimal {
  return typeof value === 'number' ? new Decimal(value) : new Decimal(0);
}

/** Parses `(guid)` or `(name='v',other=1)` from a URL segment into key/value pairs (empty name = primary key). */
export function parseKeySegment(text: string): Array<[string, KeyValue]> {
  const trimmed = text.trim();
  if (isGuid(trimmed)) return [['', trimmed.toLowerCase()]];
  return splitTopLevel(trimmed, ',').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0)
      throw badRequest(ErrorCodes.invalidProperty, `Bad Request - Error in query syntax: key segment '${text}'.`);
    const name = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    let value: KeyValue;
    if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) value = raw.slice(1, -1).replace(/''/g, "'");
    else if (isGuid(raw)) value = raw.toLowerCase();
    else if (raw === 'null') value = null;
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    else
      throw badRequest(
        ErrorCodes.invalidProperty,
        `Bad Request - Error in query syntax: unrecognised key value ${raw}.`,
      );
    return [name, value];
  });
}

function sameKeyValue(a: StoredValue | undefined, b: KeyValue): boolean {
  const left = isLookupValue(a) ? a.id : (a ?? null);
  if (typeof left === 'string' && typeof b === 'string') return left.toLowerCase() === b.toLowerCase();
  return left === b;
}

export interface RecordOptions {
  createProductsAsActive: boolean;
}

/** Create, update, upsert and delete with the validation and side effects Dataverse applies. */
export class RecordService {
  constructor(
    readonly schema: Schema,
    readonly store: RecordStore,
    private readonly options: RecordOptions,
  ) {}

  tableBySet(entitySet: string): TableDefinition {
    const table = this.schema.bySet.get(entitySet) ?? this.schema.bySet.get(entitySet.toLowerCase());
    if (table === undefined)
      throw new DataverseError(404, '0x80060888', `Resource not found for the segment '${entitySet}'.`);
    return table;
  }

  /** Finds a row by id or by an Active alternate key; `undefined` when the key is valid but nothing matches. */
  find(table: TableDefinition, pairs: Array<[string, KeyValue]>): Row | undefined {
    const [first] = pairs;
    if (pairs.length === 1 && first !== undefined && (first[0] === '' || first[0].toLowerCase() === table.primaryKey)) {
      if (typeof first[1] !== 'string' || !isGuid(first[1]))
        throw badRequest(ErrorCodes.invalidProperty, `Invalid key value for ${table.primaryKey}.`);
      return this.store.get(table.logicalName, first[1]);
    }
    const columns = pairs.map(([name]) => columnForProperty(table, name)?.name ?? name.toLowerCase());
    const key = table.keys.find(
      (k) =>
        k.status === 'Active' &&
        k.keyAttributes.length === columns.length &&
        k.keyAttributes.every((a) => columns.includes(a)),
    );
    if (key === undefined) {
      throw badRequest(
        ErrorCodes.entityKeyNotDefined,
        `The specified key attributes are not a defined key for the ${table.logicalName} entity`,
      );
    }
    return this.store
      .all(table.logicalName)
      .find((row) => pairs.every(([, value], i) => sameKeyValue(row[columns[i] ?? ''], value)));
  }

  /** Key columns of an alternate-key address, to seed a row an upsert creates. */
  keyColumns(table: TableDefinition, pairs: Array<[string, KeyValue]>): Record<string, KeyValue> {
    const values: Record<string, KeyValue> = {};
    for (const [name, value] of pairs) {
      if (name === '') continue;
      const column = columnForProperty(table, name);
      if (column !== undefined && column.type !== 'lookup') values[column.name] = value;
    }
    return values;
  }

  /** Resolves `/accounts(<id>)`, `accounts(key='v')`, an absolute URL, or a batch `$n` reference. */
  resolveReference(reference: string, context: WriteContext): LookupValue {
    const contentRef = /^\$(\w+)$/.exec(reference.trim());
    if (contentRef?.[1] !== undefined) {
      const target = context.contentIds?.get(contentRef[1]);
      if (target === undefined) {
        throw badRequest(
          ErrorCodes.contentIdMissing,
          `Content-ID Reference: '$${contentRef[1]}' does not exist in the batch context.`,
        );
      }
      return target;
    }
    const path = reference.replace(/^https?:\/\/[^/]+/i, '').replace(/^\/?(api\/data\/v9\.\d\/)?/i, '');
    const match = /^([A-Za-z_]\w*)\((.*)\)$/.exec(decodeURIComponent(path));
    if (match?.[1] === undefined || match[2] === undefined) {
      throw badRequest(
        ErrorCodes.invalidProperty,
        `The URI '${reference}' is not valid because it is not based on the service root.`,
      );
    }
    const table = this.tableBySet(match[1]);
    const pairs = parseKeySegment(match[2]);
    const row = this.find(table, pairs);
    if (row === undefined) {
      const shown = pairs.map(([k, v]) => (k === '' ? String(v) : `${k}:${String(v)}`)).join(',');
      throw new DataverseError(
        404,
        ErrorCodes.objectDoesNotExist,
        `${table.logicalName} With Id = ${shown} Does Not Exist`,
      );
    }
    return { id: String(row[table.primaryKey]), table: table.logicalName };
  }

  private organizationSaysActive(): boolean {
    const org = this.store.all('organization')[0];
    return org?.createproductswithoutparentinactivestate === true;
  }

  /**
   * A number outside its column's `MinValue`..`MaxValue` is refused, as Dataverse refuses it (400, OutsideValidRange).
   * The code is the one the sandbox answers for a choice out of range, and the wording follows messages reported from
   * real organisations; both are assumptions, not confirmed against Microsoft's reference.
   */
  private checkRange(table: TableDefinition, column: ColumnDefinition, value: number): void {
    const { minValue, maxValue } = column;
    if ((minValue === undefined || value >= minValue) && (maxValue === undefined || value <= maxValue)) return;
    throw badRequest(
      ErrorCodes.outsideValidRange,
      `A validation error occurred. The value ${value} of '${column.name}' on record of type '${table.logicalName}' is outside the valid range. Accepted Values: ${minValue ?? ''} to ${maxValue ?? ''}`,
    );
  }

  /**
   * The decimals a number column keeps. Dataverse stores a money or decimal value rounded to its precision rather
   * than refusing extra decimals (0.003 in a two-decimal price is stored as 0.00); half away from zero is an
   * assumption. Price columns follow the organisation's pricing decimal precision, other money columns the
   * currency's (the sandbox's one currency).
   */
  private precisionOf(column: ColumnDefinition): number {
    const fromRow = (table: string, name: string): number | undefined => {
      const value = this.store.all(table)[0]?.[name];
      return typeof value === 'number' ? value : undefined;
    };
    if (column.type === 'money' && column.precisionSource === 1)
      return fromRow('organization', 'pricingdecimalprecision') ?? 2;
    if (column.type === 'money' && column.precisionSource === 2)
      return fromRow('transactioncurrency', 'currencyprecision') ?? 2;
    return column.precision ?? (column.type === 'money' ? 2 : 10);
  }

  /** Converts one JSON value for a column, with Dataverse's messages for type and length violations. */
  private coerce(table: TableDefinition, column: ColumnDefinition, value: unknown): StoredValue {
    if (value === null) return null;
    const typeError = (edm: string): DataverseError =>
      badRequest(
        ErrorCodes.invalidProperty,
        `Cannot convert the literal '${String(value)}' to the expected type '${edm}'.`,
      );
    switch (column.type) {
      case 'string':
      case 'memo': {
        if (typeof value !== 'string') throw typeError('Edm.String');
        if (column.maxLength !== undefined && value.length > column.maxLength) {
          throw badRequest(
            ErrorCodes.maxLengthExceeded,
            `A validation error occurred.  The length of the '${column.name}' attribute of the '${table.logicalName}' entity exceeded the maximum allowed length of '${column.maxLength}'.`,
          );
        }
        return value;
      }
      case 'integer':
      case 'choice': {
        if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError('Edm.Int32');
        this.checkRange(table, column, value);
        if (column.type === 'choice') {
          const allowed = this.schema.optionValues(table, column);
          if (allowed !== undefined && !allowed.includes(value)) {
            throw badRequest(
              ErrorCodes.outsideValidRange,
              `A validation error occurred. The value ${value} of '${column.name}' on record of type '${table.logicalName}' is outside the valid range.`,
            );
          }
        }
        return value;
      }
      case 'decimal':
      case 'money': {
        const n = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isFinite(n)) throw typeError('Edm.Decimal');
        this.checkRange(table, column, n);
        return new Decimal(n).toDecimalPlaces(this.precisionOf(column), Decimal.ROUND_HALF_UP).toNumber();
      }
      case 'boolean':
        if (typeof value !== 'boolean') throw typeError('Edm.Boolean');
        return value;
      case 'datetime': {
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw typeError('Edm.DateTimeOffset');
        return new Date(Date.parse(value)).toISOString().replace('.000Z', 'Z');
      }
      case 'uniqueidentifier':
        if (typeof value !== 'string' || !isGuid(value)) throw typeError('Edm.Guid');
        return value.toLowerCase();
      case 'lookup':
        throw typeError('Edm.Guid');
    }
  }

  /** Applies a JSON body to `row`; returns the columns it set. */
  private applyBody(
    table: TableDefinition,
    row: Row,
    body: Record<string, unknown>,
    creating: boolean,
    context: WriteContext,
  ): string[] {
    const changed: string[] = [];
    for (const [property, value] of Object.entries(body)) {
      if (property.startsWith('@')) continue;
      const bind = /^(.+)@odata\.bind$/i.exec(property);
      if (bind?.[1] !== undefined) {
        const navigation = this.schema.navigation(table, bind[1]);
        if (navigation === undefined) {
          throw badRequest(
            ErrorCodes.invalidProperty,
            `An undeclared property '${bind[1]}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`,
          );
        }
        if (value === null) {
          row[navigation.column.name] = null;
        } else {
          if (typeof value !== 'string')
            throw badRequest(ErrorCodes.invalidProperty, `The value of '${property}' must be a URI string.`);
          const target = this.resolveReference(value, context);
          if (target.table !== navigation.target.table) {
            throw badRequest(
              ErrorCodes.invalidProperty,
              `A value of type '${target.table}' was bound to '${bind[1]}', which expects an entity of type 'Microsoft.Dynamics.CRM.${navigation.target.table}'.`,
            );
          }
          row[navigation.column.name] = target;
        }
        changed.push(navigation.column.name);
        continue;
      }
      if (property.includes('@')) continue;
      const column = table.columns.get(property);
      if (column === undefined || column.type === 'lookup') {
        throw badRequest(
          ErrorCodes.invalidProperty,
          `The property '${property}' does not exist on type 'Microsoft.Dynamics.CRM.${table.logicalName}'. Make sure to only use property names that are defined by the type.`,
        );
      }
      if (column.readOnly === true) continue;
      if (column.name === table.primaryKey) {
        if (creating) row[column.name] = this.coerce(table, column, value);
        continue;
      }
      // statecode is not valid for create: rows are born in their table's initial state.
      if (creating && STATE_COLUMNS.has(column.name)) continue;
      row[column.name] = this.coerce(table, column, value);
      changed.push(column.name);
    }
    return changed;
  }

  private checkRequired(table: TableDefinition, row: Row): void {
    for (const column of table.columns.values()) {
      if (column.required === true && (row[column.name] === undefined || row[column.name] === null)) {
        throw badRequest(ErrorCodes.requiredMissing, `Attribute '${column.name}' cannot be NULL`);
      }
    }
  }

  private checkAlternateKeys(table: TableDefinition, row: Row): void {
    const id = String(row[table.primaryKey]);
    for (const key of table.keys) {
      if (key.status !== 'Active') continue;
      const values = key.keyAttributes.map((a) => row[a] ?? null);
      if (values.some((v) => v === null)) continue;
      const clash = this.store
        .all(table.logicalName)
        .find(
          (other) =>
            String(other[table.primaryKey]) !== id &&
            key.keyAttributes.every((a, i) =>
              sameKeyValue(
                other[a],
                isLookupValue(values[i]) ? (values[i] as LookupValue).id : (values[i] as KeyValue),
              ),
            ),
        );
      if (clash !== undefined) {
        const shown = values.map((v) => (isLookupValue(v) ? v.id : String(v))).join(', ');
        throw new DataverseError(
          412,
          ErrorCodes.duplicateRecordEntityKey,
          `A record that has the attribute values ${shown} already exists. The entity key ${key.schemaName} requires that this set of attributes contains unique values. Select unique values and try again.`,
        );
      }
    }
  }

  private applyState(table: TableDefinition, row: Row, previous: Row | undefined, changed: string[]): void {
    if (table.states.length === 0) return;
    if (previous === undefined) {
      let initial = table.states[0];
      if (table.logicalName === 'product' && !(this.options.createProductsAsActive || this.organizationSaysActive())) {
        initial = table.states.find((s) => s.state === 2);
      }
      if (initial === undefined) return;
      row.statecode = initial.state;
      if (typeof row.statuscode !== 'number' || !initial.statuses.includes(row.statuscode))
        row.statuscode = initial.defaultStatus;
      return;
    }
    if (!changed.includes('statecode') && !changed.includes('statuscode')) return;
    const state = table.states.find((s) => s.state === row.statecode);
    if (state === undefined) return;
    if (!changed.includes('statuscode')) row.statuscode = state.defaultStatus;
    else if (typeof row.statuscode !== 'number' || !state.statuses.includes(row.statuscode)) {
      throw badRequest(
        ErrorCodes.invalidArgument,
        `${String(row.statuscode)} is not a valid status code for state code ${table.schemaName}State.${state.label} on ${table.logicalName} with Id ${String(row[table.primaryKey])}.`,
      );
    }
  }

  private orderMustBeEditable(orderId: string): Row {
    return this.headerMustBeEditable('salesorder', orderId);
  }

  /**
   * A closed order or opportunity is read-only, its lines too. For opportunities the message is an assumption (the
   * platform refuses edits of a closed opportunity; its exact wording was not confirmed).
   */
  private headerMustBeEditable(header: 'salesorder' | 'opportunity', id: string): Row {
    const row = this.store.get(header, id);
    if (row === undefined) throw notFound(header, id);
    if (row.statecode !== 0) {
      if (header === 'salesorder') throw readOnly('salesorder', id);
      throw badRequest(
        ErrorCodes.readOnlyRecord,
        `This opportunity is closed (won or lost) and is read-only; reopen it before editing it or its products (opportunity Id = ${id}).`,
      );
    }
    return row;
  }

  private invoiceMustBeEditable(invoiceId: string): Row {
    const invoice = this.store.get('invoice', invoiceId);
    if (invoice === undefined) throw notFound('invoice', invoiceId);
    if (invoice.statecode !== INVOICE_ACTIVE) throw readOnly('invoice', invoiceId);
    return invoice;
  }

  /** An invoice line: its invoice must be active; amounts as on order lines, from the line's own price. */
  private applyInvoiceLineRules(row: Row, previous: Row | undefined): void {
    if (!isLookupValue(row.invoiceid))
      throw badRequest(ErrorCodes.requiredMissing, "Attribute 'invoiceid' cannot be NULL");
    const invoice = this.invoiceMustBeEditable(row.invoiceid.id);
    if (previous !== undefined && isLookupValue(previous.invoiceid) && previous.invoiceid.id !== row.invoiceid.id)
      this.invoiceMustBeEditable(previous.invoiceid.id);
    row.isproductoverridden ??= false;
    row.ispriceoverridden ??= false;
    row.quantity ??= 1;
    if (row.isproductoverridden === true) {
      row.productidname = typeof row.productdescription === 'string' ? row.productdescription : null;
    } else {
      if (!isLookupValue(row.productid))
        throw badRequest(
          ErrorCodes.requiredMissing,
          "Attribute 'productid' cannot be NULL for an existing (not write-in) product line.",
        );
      const product = this.store.get('product', row.productid.id);
      if (product === undefined) throw notFound('product', row.productid.id);
      row.productidname = typeof product.name === 'string' ? product.name : null;
    }
    row.priceperunit ??= 0;
    const base = numberOf(row.quantity).times(numberOf(row.priceperunit));
    row.baseamount = money(base);
    row.extendedamount = money(base.minus(numberOf(row.manualdiscountamount)).plus(numberOf(row.tax)));
    if (row.lineitemnumber === undefined || row.lineitemnumber === null)
      row.lineitemnumber = this.invoiceLinesOf(row.invoiceid.id).length + 1;
    row.transactioncurrencyid ??= invoice.transactioncurrencyid ?? null;
  }

  invoiceLinesOf(invoiceId: string): Row[] {
    return this.store.all('invoicedetail').filter((l) => isLookupValue(l.invoiceid) && l.invoiceid.id === invoiceId);
  }

  /**
   * `ConvertSalesOrderToInvoice`: a new Active invoice made from the order — its customer, price list, currency,
   * addresses, discount and freight — with one line per order line at the order's prices, linked to the order
   * (`salesorderid`). Documented: SalesOrderId in, the invoice out (Web API action reference). Assumptions,
   * unconfirmed on a real organisation: the order's own state is left as it is (the client moves it to Invoiced), and a
   * canceled order cannot be converted.
   */
  convertSalesOrderToInvoice(orderId: string, context: WriteContext): Row {
    return this.store.transaction(() => {
      const order = this.store.get('salesorder', orderId);
      if (order === undefined) throw notFound('salesorder', orderId);
      if (order.statecode === OrderState.Canceled) {
        throw badRequest(
          ErrorCodes.invalidArgument,
          `A canceled order cannot be converted to an invoice (salesorder Id = ${orderId}).`,
        );
      }
      const copied: Record<string, unknown> = {};
      const bind = (column: string, table: string, set: string): void => {
        const value = order[column];
        if (isLookupValue(value))
          copied[`${column}${table === '' ? '' : `_${table}`}@odata.bind`] = `/${set}(${value.id})`;
      };
      const customerTable = isLookupValue(order.customerid) ? order.customerid.table : 'account';
      bind('customerid', customerTable, `${customerTable}s`);
      bind('pricelevelid', '', 'pricelevels');
      bind('transactioncurrencyid', '', 'transactioncurrencies');
      for (const column of Object.keys(order)) {
        if (
          /^(billto|shipto)_/.test(column) ||
          [
            'description',
            'freightamount',
            'discountamount',
            'discountpercentage',
            'totaltax',
            'paymenttermscode',
          ].includes(column)
        ) {
          if (order[column] !== null && order[column] !== undefined) copied[column] = order[column];
        }
      }
      copied.name = order.name;
      copied['salesorderid@odata.bind'] = `/salesorders(${orderId})`;
      const invoices = this.schema.table('invoice');
      const invoice = this.create(invoices, copied, context);
      const invoiceId = String(invoice.invoiceid);
      const lines = this.schema.table('invoicedetail');
      for (const line of this.linesOf(orderId)) {
        const body: Record<string, unknown> = {
          'invoiceid@odata.bind': `/invoices(${invoiceId})`,
          'salesorderdetailid@odata.bind': `/salesorderdetails(${String(line.salesorderdetailid)})`,
          isproductoverridden: line.isproductoverridden === true,
          ispriceoverridden: true,
        };
        if (isLookupValue(line.productid)) body['productid@odata.bind'] = `/products(${line.productid.id})`;
        if (isLookupValue(line.uomid)) body['uomid@odata.bind'] = `/uoms(${line.uomid.id})`;
        for (const column of [
          'productdescription',
          'description',
          'quantity',
          'priceperunit',
          'manualdiscountamount',
          'tax',
          'lineitemnumber',
        ]) {
          if (line[column] !== null && line[column] !== undefined) body[column] = line[column];
        }
        this.create(lines, body, context);
      }
      return this.store.get('invoice', invoiceId) ?? invoice;
    });
  }

  /**
   * `FulfillSalesOrder` / `CancelSalesOrder`: an Active or Submitted order closed as Fulfilled or Canceled with the
   * given status (-1: the state's default). Closing an order that is already closed is refused (assumption: the
   * platform's own code and wording unconfirmed).
   */
  closeSalesOrder(orderId: string, state: 'Fulfilled' | 'Canceled', status: number, context: WriteContext): Row {
    const orders = this.schema.table('salesorder');
    const order = this.store.get('salesorder', orderId);
    if (order === undefined) throw notFound('salesorder', orderId);
    if (!ORDER_EDITABLE_STATES.has(Number(order.statecode))) throw readOnly('salesorder', orderId);
    const statecode = OrderState[state];
    const definition = orders.states.find((s) => s.state === statecode);
    const statuscode = status === -1 ? definition?.defaultStatus : status;
    return this.update(orders, order, { statecode, statuscode }, context);
  }

  /** Table-specific defaults, computed columns and rules, run on every create and update before saving. */
  private applyRules(table: TableDefinition, row: Row, previous: Row | undefined, changed: string[]): void {
    switch (table.logicalName) {
      case 'contact':
        row.fullname =
          [row.firstname, row.lastname].filter((p) => typeof p === 'string' && p.length > 0).join(' ') || null;
        break;
      case 'product': {
        if (previous === undefined) {
          row.productstructure ??= 1;
          row.quantitydecimal ??= 2;
        }
        const unit = isLookupValue(row.defaultuomid) ? this.store.get('uom', row.defaultuomid.id) : undefined;
        const group = isLookupValue(row.defaultuomscheduleid) ? row.defaultuomscheduleid.id : undefined;
        const unitGroup = isLookupValue(unit?.uomscheduleid) ? unit.uomscheduleid.id : undefined;
        if (unit !== undefined && group !== undefined && unitGroup !== group) {
          throw badRequest(
            ErrorCodes.invalidArgument,
            `The default unit ${String(unit.name)} does not belong to the product's unit group (uomschedule Id = ${group}).`,
          );
        }
        this.defaultPriceListMustBePriced(row, previous, changed);
        break;
      }
      case 'productpricelevel': {
        const ids = (r: Row): string =>
          ['pricelevelid', 'productid', 'uomid']
            .map((c) => (isLookupValue(r[c]) ? (r[c] as LookupValue).id : ''))
            .join('|');
        const mine = ids(row);
        const clash = this.store
          .all('productpricelevel')
          .find((r) => r.productpricelevelid !== row.productpricelevelid && ids(r) === mine);
        if (clash !== undefined)
          throw badRequest(
            ErrorCodes.duplicateProductPriceLevel,
            'This product and unit combination has a price for this price list.',
          );
        const product = isLookupValue(row.productid) ? this.store.get('product', row.productid.id) : undefined;
        row.productidname = typeof product?.name === 'string' ? product.name : null;
        row.pricingmethodcode ??= 1;
        break;
      }
      case 'salesorder': {
        // "Only active orders can be edited" (the salesorder statecode's description): an order that is fulfilled,
        // canceled or invoiced is read-only, every column of it, the ones a solution added (`qbsync_`) included; only
        // its state may change (SetState). Submitted orders stay editable as the issue's reading of the platform has
        // it (assumption, unconfirmed on a real organisation).
        if (
          previous !== undefined &&
          !ORDER_EDITABLE_STATES.has(Number(previous.statecode)) &&
          changed.some((c) => !STATE_COLUMNS.has(c))
        ) {
          throw readOnly('salesorder', String(row.salesorderid));
        }
        if (previous === undefined) {
          if (row.ordernumber === undefined || row.ordernumber === null) {
            const serial = String(1001 + this.store.count('salesorder')).padStart(5, '0');
            row.ordernumber = `ORD-${serial}-${String(row.salesorderid).slice(0, 6).toUpperCase()}`;
          }
          if (row.transactioncurrencyid === undefined || row.transactioncurrencyid === null) {
            const currency = this.store.all('transactioncurrency')[0];
            if (currency !== undefined)
              row.transactioncurrencyid = { id: String(currency.transactioncurrencyid), table: 'transactioncurrency' };
          }
        }
        this.computeOrderTotals(row);
        break;
      }
      case 'opportunity': {
        // Closing goes through WinOpportunity / LoseOpportunity, which record the OpportunityClose activity; an update
        // may only reopen. Assumption: the platform's refusal of a close by update (its code and wording unconfirmed).
        if (changed.includes('statecode') && row.statecode !== OpportunityState.Open && !this.closing) {
          throw badRequest(
            ErrorCodes.invalidArgument,
            'An opportunity is closed with the WinOpportunity or LoseOpportunity action, not by setting its state.',
          );
        }
        const frozen = (c: string): boolean => !STATE_COLUMNS.has(c) && !c.startsWith('qbsync_');
        if (previous !== undefined && previous.statecode !== OpportunityState.Open && changed.some(frozen)) {
          if (!(this.closing || (changed.includes('statecode') && row.statecode === OpportunityState.Open))) {
            throw badRequest(
              ErrorCodes.readOnlyRecord,
              `This opportunity is closed (won or lost) and is read-only; reopen it before editing it or its products (opportunity Id = ${String(row.opportunityid)}).`,
            );
          }
        }
        if (previous === undefined && (row.transactioncurrencyid === undefined || row.transactioncurrencyid === null)) {
          const currency = this.store.all('transactioncurrency')[0];
          if (currency !== undefined)
            row.transactioncurrencyid = { id: String(currency.transactioncurrencyid), table: 'transactioncurrency' };
        }
        this.computeHeaderTotals('opportunity', row);
        break;
      }
      case 'salesorderdetail':
      case 'opportunityproduct':
        this.applyLineRules(LINE_TABLES[table.logicalName]!, row, previous);
        break;
      case 'invoice': {
        // "Paid and canceled invoices are read-only and can't be edited unless they are reactivated" (the invoice
        // statecode's description): only their state may change.
        if (
          previous !== undefined &&
          Number(previous.statecode) !== INVOICE_ACTIVE &&
          changed.some((c) => !STATE_COLUMNS.has(c))
        ) {
          throw readOnly('invoice', String(row.invoiceid));
        }
        if (previous === undefined) {
          if (row.invoicenumber === undefined || row.invoicenumber === null) {
            const serial = String(1001 + this.store.count('invoice')).padStart(5, '0');
            row.invoicenumber = `INV-${serial}-${String(row.invoiceid).slice(0, 6).toUpperCase()}`;
          }
          if (row.transactioncurrencyid === undefined || row.transactioncurrencyid === null) {
            const currency = this.store.all('transactioncurrency')[0];
            if (currency !== undefined)
              row.transactioncurrencyid = { id: String(currency.transactioncurrencyid), table: 'transactioncurrency' };
          }
        }
        this.computeTotals(row, this.invoiceLinesOf(String(row.invoiceid)));
        break;
      }
      case 'invoicedetail':
        this.applyInvoiceLineRules(row, previous);
        break;
      default:
        break;
    }
  }

  /**
   * A product's default price list (`pricelevelid`, `validForCreate: false` in the schema) is not valid for create,
   * and can be set only to a price list that already holds a price-list item for the product (Microsoft's
   * product-catalog guide: the field is read-only on a new product and offers only the price lists the product has
   * items in). Status 400 is Dataverse's for a refused attribute value; the code and messages are assumptions,
   * unconfirmed on a real organisation. Clearing it is allowed.
   */
  private defaultPriceListMustBePriced(row: Row, previous: Row | undefined, changed: string[]): void {
    if (!changed.includes('pricelevelid') || !isLookupValue(row.pricelevelid)) return;
    const productId = String(row.productid);
    if (previous === undefined) {
      throw badRequest(
        ErrorCodes.productDefaultPriceListInvalid,
        "The attribute 'pricelevelid' (Default Price List) is not valid for create on entity 'product': create the product, add a price list item for it, then set its default price list.",
      );
    }
    const priceLevelId = row.pricelevelid.id;
    const priced = this.store
      .all('productpricelevel')
      .some(
        (p) =>
          isLookupValue(p.productid) &&
          p.productid.id === productId &&
          isLookupValue(p.pricelevelid) &&
          p.pricelevelid.id === priceLevelId,
      );
    if (!priced) {
      throw badRequest(
        ErrorCodes.productDefaultPriceListInvalid,
        `The price list (pricelevel Id = ${priceLevelId}) has no price list item for this product (product Id = ${productId}): it cannot be the product's default price list.`,
      );
    }
  }

  private applyLineRules(line: LineTable, row: Row, previous: Row | undefined): void {
    const parent = row[line.lookup];
    if (!isLookupValue(parent))
      throw badRequest(ErrorCodes.requiredMissing, `Attribute '${line.lookup}' cannot be NULL`);
    const order = this.headerMustBeEditable(line.header, parent.id);
    const before = previous?.[line.lookup];
    if (previous !== undefined && isLookupValue(before) && before.id !== parent.id) {
      this.headerMustBeEditable(line.header, before.id);
    }
    row.isproductoverridden ??= false;
    row.ispriceoverridden ??= false;
    row.quantity ??= 1;
    if (row.isproductoverridden === true) {
      if (typeof row.productdescription !== 'string' || row.productdescription.length === 0) {
        throw badRequest(
          ErrorCodes.requiredMissing,
          'A write-in product (isproductoverridden = true) needs productdescription.',
        );
      }
      if (row.productid !== null && row.productid !== undefined) {
        throw badRequest(
          ErrorCodes.invalidArgument,
          'A write-in product line cannot reference a catalog product (productid must be empty).',
        );
      }
      row.productidname = row.productdescription;
    } else {
      if (!isLookupValue(row.productid))
        throw badRequest(
          ErrorCodes.requiredMissing,
          "Attribute 'productid' cannot be NULL for an existing (not write-in) product line.",
        );
      if (!isLookupValue(row.uomid))
        throw badRequest(
          ErrorCodes.requiredMissing,
          "Attribute 'uomid' cannot be NULL for an existing (not write-in) product line.",
        );
      const product = this.store.get('product', row.productid.id);
      if (product === undefined) throw notFound('product', row.productid.id);
      if (product.statecode !== 0) {
        throw badRequest(
          ErrorCodes.productNotActive,
          `The product '${String(product.name)}' is not active (it is in Draft, Retired or Under Revision state) and cannot be added to an order.`,
        );
      }
      row.productidname = typeof product.name === 'string' ? product.name : null;
      // System pricing: unless the price is overridden, the order's price list decides the unit price.
      if (row.ispriceoverridden !== true) {
        const listPrice = this.listPrice(order, row.productid.id, row.uomid.id);
        if (listPrice !== undefined) row.priceperunit = listPrice;
        else if (typeof row.priceperunit !== 'number')
          row.priceperunit = typeof product.price === 'number' ? product.price : 0;
      }
    }
    row.priceperunit ??= 0;
    const base = numberOf(row.quantity).times(numberOf(row.priceperunit));
    row.baseamount = money(base);
    row.extendedamount = money(base.minus(numberOf(row.manualdiscountamount)).plus(numberOf(row.tax)));
    if (row.lineitemnumber === undefined || row.lineitemnumber === null) {
      row.lineitemnumber = this.linesOfHeader(line.header, parent.id).length + 1;
    }
    row.transactioncurrencyid ??= order.transactioncurrencyid ?? null;
  }

  private listPrice(order: Row, productId: string, uomId: string): number | undefined {
    if (!isLookupValue(order.pricelevelid)) return undefined;
    const priceLevelId = order.pricelevelid.id;
    const entry = this.store
      .all('productpricelevel')
      .find(
        (p) =>
          isLookupValue(p.pricelevelid) &&
          p.pricelevelid.id === priceLevelId &&
          isLookupValue(p.productid) &&
          p.productid.id === productId &&
          isLookupValue(p.uomid) &&
          p.uomid.id === uomId,
      );
    return typeof entry?.amount === 'number' ? entry.amount : undefined;
  }

  linesOf(orderId: string): Row[] {
    return this.linesOfHeader('salesorder', orderId);
  }

  private linesOfHeader(header: 'salesorder' | 'opportunity', id: string): Row[] {
    const lineTable = LINES_OF[header]!;
    const lookup = LINE_TABLES[lineTable]!.lookup;
    return this.store.all(lineTable).filter((l) => {
      const parent = l[lookup];
      return isLookupValue(parent) && parent.id === id;
    });
  }

  private computeOrderTotals(order: Row): void {
    this.computeHeaderTotals('salesorder', order);
  }

  private computeHeaderTotals(header: 'salesorder' | 'opportunity', order: Row): void {
    this.computeTotals(order, this.linesOfHeader(header, String(order[`${header}id`])));
  }

  /** An order's, opportunity's or invoice's totals from its lines, discount, freight and tax. */
  private computeTotals(order: Row, lines: readonly Row[]): void {
    const lineTotal = lines.reduce((sum, line) => sum.plus(numberOf(line.extendedamount)), new Decimal(0));
    const discount =
      typeof order.discountamount === 'number'
        ? new Decimal(order.discountamount)
        : lineTotal.times(numberOf(order.discountpercentage)).dividedBy(100);
    const lessFreight = lineTotal.minus(discount);
    order.totallineitemamount = money(lineTotal);
    order.totalamountlessfreight = money(lessFreight);
    order.totalamount = money(lessFreight.plus(numberOf(order.freightamount)).plus(numberOf(order.totaltax)));
  }

  /** Re-totals an invoice after one of its lines changed. */
  private refreshInvoice(invoiceId: string): void {
    const invoice = this.store.get('invoice', invoiceId);
    if (invoice === undefined) return;
    const updated: Row = { ...invoice };
    this.computeTotals(updated, this.invoiceLinesOf(invoiceId));
    if (updated.totalamount === invoice.totalamount) return;
    updated.versionnumber = this.store.nextVersion();
    this.store.put('invoice', invoiceId, updated);
  }

  /** Re-totals an order after one of its lines changed; the order's row version moves like Dataverse's. */
  private refreshOrder(
    orderId: string,
    context: WriteContext,
    header: 'salesorder' | 'opportunity' = 'salesorder',
  ): void {
    const order = this.store.get(header, orderId);
    if (order === undefined) return;
    const updated: Row = { ...order };
    this.computeHeaderTotals(header, updated);
    if (updated.totalamount === order.totalamount && updated.totallineitemamount === order.totallineitemamount) return;
    updated.versionnumber = this.store.nextVersion();
    updated.modifiedon = nowIso();
    this.store.put(header, orderId, updated);
    context.events.push({
      message: 'Update',
      table: header,
      id: orderId,
      attributes: ['totallineitemamount', 'totalamountlessfreight', 'totalamount'],
      depth: 2,
    });
  }

  create(
    table: TableDefinition,
    body: Record<string, unknown>,
    context: WriteContext,
    seed: Record<string, KeyValue> = {},
    id?: string,
  ): Row {
    return this.store.transaction(() => {
      const row: Row = {};
      for (const column of table.columns.values()) row[column.name] = null;
      // Body values win over the key values of the URL (reference §3.2).
      Object.assign(row, seed);
      const changed = this.applyBody(table, row, body, true, context);
      const rowId = typeof row[table.primaryKey] === 'string' ? String(row[table.primaryKey]) : (id ?? randomUUID());
      if (this.store.get(table.logicalName, rowId) !== undefined) {
        throw new DataverseError(412, ErrorCodes.duplicateRecord, 'Cannot insert duplicate key.');
      }
      row[table.primaryKey] = rowId;
      const now = nowIso();
      row.createdon = now;
      row.modifiedon = now;
      row.versionnumber = this.store.nextVersion();
      this.applyState(table, row, undefined, changed);
      this.applyRules(table, row, undefined, changed);
      this.checkRequired(table, row);
      this.checkAlternateKeys(table, row);
      this.store.put(table.logicalName, rowId, row);
      const populated = Object.keys(row).filter((k) => row[k] !== null);
      context.events.push({ message: 'Create', table: table.logicalName, id: rowId, attributes: populated, depth: 1 });
      this.refreshHeaderOf(table, [row], context);
      if (table.logicalName === 'invoicedetail' && isLookupValue(row.invoiceid)) this.refreshInvoice(row.invoiceid.id);
      return row;
    });
  }

  update(table: TableDefinition, existing: Row, body: Record<string, unknown>, context: WriteContext): Row {
    return this.store.transaction(() => {
      const row: Row = { ...existing };
      const changed = this.applyBody(table, row, body, false, context);
      this.applyState(table, row, existing, changed);
      this.applyRules(table, row, existing, changed);
      this.checkRequired(table, row);
      this.checkAlternateKeys(table, row);
      row.modifiedon = nowIso();
      row.versionnumber = this.store.nextVersion();
      const id = String(row[table.primaryKey]);
      this.store.put(table.logicalName, id, row);
      context.events.push({
        message: 'Update',
        table: table.logicalName,
        id,
        attributes: [...new Set([...changed, 'modifiedon'])],
        depth: 1,
      });
      this.refreshHeaderOf(table, [existing, row], context);
      if (table.logicalName === 'invoicedetail') {
        for (const invoiceRef of [existing.invoiceid, row.invoiceid])
          if (isLookupValue(invoiceRef)) this.refreshInvoice(invoiceRef.id);
      }
      return row;
    });
  }

  remove(table: TableDefinition, existing: Row, context: WriteContext): void {
    this.store.transaction(() => {
      const id = String(existing[table.primaryKey]);
      const line = LINE_TABLES[table.logicalName];
      const parent = line ? existing[line.lookup] : undefined;
      if (line && isLookupValue(parent)) this.headerMustBeEditable(line.header, parent.id);
      const lineTable = LINES_OF[table.logicalName];
      if (lineTable !== undefined) {
        const header = table.logicalName as 'salesorder' | 'opportunity';
        for (const l of this.linesOfHeader(header, id)) this.store.remove(lineTable, String(l[`${lineTable}id`]));
      }
      if (table.logicalName === 'invoicedetail' && isLookupValue(existing.invoiceid))
        this.invoiceMustBeEditable(existing.invoiceid.id);
      if (table.logicalName === 'invoice') {
        for (const line of this.invoiceLinesOf(id)) this.store.remove('invoicedetail', String(line.invoicedetailid));
      }
      this.store.remove(table.logicalName, id);
      context.events.push({ message: 'Delete', table: table.logicalName, id, attributes: [], depth: 1 });
      this.refreshHeaderOf(table, [existing], context);
      if (table.logicalName === 'invoicedetail' && isLookupValue(existing.invoiceid))
        this.refreshInvoice(existing.invoiceid.id);
    });
  }

  /** The headers (order, opportunity) whose lines `rows` are: re-totalled after a line was written. */
  private refreshHeaderOf(table: TableDefinition, rows: Row[], context: WriteContext): void {
    const line = LINE_TABLES[table.logicalName];
    if (line === undefined) return;
    const ids = new Set(
      rows
        .map((r) => r[line.lookup])
        .filter(isLookupValue)
        .map((l) => l.id),
    );
    for (const id of ids) this.refreshOrder(id, context, line.header);
  }

  /** Set while WinOpportunity closes an opportunity: the one way its state may become Won. */
  private closing = false;

  /**
   * The `WinOpportunity` action (Web API, unbound; `OpportunityClose` entity and `Status`): records the close as a
   * completed OpportunityClose activity and moves the opportunity to Won with that status. Refused, as documented or
   * (marked) assumed: a missing parameter (400), an opportunity that does not exist (404), one already closed (400,
   * wording assumed), a status that is not one of the Won state's (400, the platform's invalid-status message).
   */
  winOpportunity(parameters: Record<string, unknown>, context: WriteContext): void {
    const close = parameters.OpportunityClose;
    const status = parameters.Status;
    if (close === undefined || close === null || typeof close !== 'object' || Array.isArray(close)) {
      throw badRequest(
        ErrorCodes.requiredMissing,
        "Required parameter 'OpportunityClose' of WinOpportunity is missing.",
      );
    }
    if (typeof status !== 'number' || !Number.isInteger(status)) {
      throw badRequest(ErrorCodes.requiredMissing, "Required parameter 'Status' of WinOpportunity is missing.");
    }
    const bind = (close as Record<string, unknown>)['opportunityid@odata.bind'];
    const opportunityId = typeof bind === 'string' ? /opportunities\(([0-9a-fA-F-]{36})\)/.exec(bind)?.[1] : undefined;
    if (opportunityId === undefined) {
      throw badRequest(
        ErrorCodes.requiredMissing,
        "The OpportunityClose of WinOpportunity must name its opportunity ('opportunityid@odata.bind': '/opportunities(<id>)').",
      );
    }
    const opportunities = this.schema.table('opportunity');
    this.store.transaction(() => {
      const opportunity = this.store.get('opportunity', opportunityId.toLowerCase());
      if (opportunity === undefined) throw notFound('opportunity', opportunityId);
      if (opportunity.statecode !== OpportunityState.Open) {
        throw badRequest(
          ErrorCodes.invalidArgument,
          `The opportunity is already closed and cannot be won (opportunity Id = ${opportunityId}).`,
        );
      }
      const won = opportunities.states.find((s) => s.state === OpportunityState.Won)!;
      if (!won.statuses.includes(status)) {
        throw badRequest(
          ErrorCodes.invalidArgument,
          `${status} is not a valid status code for state code OpportunityState.Won on opportunity with Id ${opportunityId}.`,
        );
      }
      const quiet: WriteContext = { ...context, events: [] };
      const activity = this.create(this.schema.table('opportunityclose'), close as Record<string, unknown>, quiet);
      const activityId = String(activity.activityid);
      this.store.put('opportunityclose', activityId, { ...activity, statecode: 1, statuscode: 2 });
      this.closing = true;
      try {
        const actualvalue = activity.actualrevenue ?? opportunity.totalamount ?? opportunity.estimatedvalue ?? null;
        this.update(
          opportunities,
          opportunity,
          {
            statecode: OpportunityState.Won,
            statuscode: status,
            actualclosedate: typeof activity.actualend === 'string' ? activity.actualend : nowIso(),
            ...(typeof actualvalue === 'number' ? { actualvalue } : {}),
          },
          quiet,
        );
      } finally {
        this.closing = false;
      }
      context.events.push({
        message: 'Win',
        table: 'opportunity',
        id: String(opportunity.opportunityid),
        attributes: ['statecode', 'statuscode', 'actualclosedate', 'actualvalue'],
        depth: 1,
        close: { activityId, status },
      });
    });
  }
}
