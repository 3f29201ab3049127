import { deterministicGuid } from './deterministicId';

export type ColumnType =
  | 'uniqueidentifier'
  | 'string'
  | 'memo'
  | 'integer'
  | 'decimal'
  | 'money'
  | 'boolean'
  | 'datetime'
  | 'choice'
  | 'lookup';

export interface LookupTarget {
  /** Single-valued navigation property used in `<navigation>@odata.bind` and `$expand`. */
  navigation: string;
  table: string;
}

export interface ColumnDefinition {
  name: string;
  schemaName: string;
  type: ColumnType;
  maxLength?: number;
  required?: boolean;
  /** Computed or system-managed: accepted in no write body. */
  readOnly?: boolean;
  /** `IsValidForCreate` false: settable by an update only; a create that carries it is refused (records.ts). */
  validForCreate?: false;
  /** Global or local option set the values must come from (choice columns). */
  optionSet?: string;
  /** `MinValue` / `MaxValue` of a number column: a value outside is refused (records.ts). */
  minValue?: number;
  maxValue?: number;
  /**
   * Decimals a number column keeps (`Precision`); a value with more is rounded to it. Money columns take it from
   * `precisionSource`: 0 this column's `precision`, 1 the organisation's pricing decimal precision, 2 the currency's.
   */
  precision?: number;
  precisionSource?: 0 | 1 | 2;
  targets?: LookupTarget[];
  custom?: boolean;
  metadataId: string;
}

export interface CollectionNavigation {
  name: string;
  table: string;
  /** Lookup column on the child table pointing back at the parent. */
  lookup: string;
}

export interface StateDefinition {
  state: number;
  label: string;
  defaultStatus: number;
  statuses: number[];
}

export type EntityKeyStatus = 'Pending' | 'InProgress' | 'Active' | 'Failed';

export interface EntityKeyDefinition {
  schemaName: string;
  logicalName: string;
  keyAttributes: string[];
  status: EntityKeyStatus;
  metadataId: string;
}

export interface TableDefinition {
  logicalName: string;
  schemaName: string;
  entitySet: string;
  primaryKey: string;
  primaryName: string;
  columns: Map<string, ColumnDefinition>;
  collections: CollectionNavigation[];
  states: StateDefinition[];
  keys: EntityKeyDefinition[];
  /** `IsOptimisticConcurrencyEnabled`: only then does the table accept `If-Match: <etag>`. */
  optimisticConcurrency: boolean;
  metadataId: string;
}

export interface OptionDefinition {
  value: number;
  label: string;
}

type ColumnSpec = Omit<ColumnDefinition, 'name' | 'metadataId' | 'schemaName'>;

const str = (maxLength: number, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'string',
  maxLength,
  ...extra,
});
const memo = (maxLength = 2000): ColumnSpec => ({ type: 'memo', maxLength });
/**
 * Money columns default to the platform's range and the currency's precision (`PrecisionSource` 2); decimals to
 * precision 2 and ±100,000,000,000. Out-of-box columns narrow these as the table reference gives them.
 */
const MONEY_LIMIT = 922337203685477;
const money = (extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'money',
  minValue: -MONEY_LIMIT,
  maxValue: MONEY_LIMIT,
  precisionSource: 2,
  ...extra,
});
/** A price column: its precision is the organisation's pricing decimal precision (`PrecisionSource` 1). */
const price = (extra: Partial<ColumnSpec> = {}): ColumnSpec => money({ precisionSource: 1, ...extra });
const DECIMAL_LIMIT = 100000000000;
const decimal = (extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'decimal',
  minValue: -DECIMAL_LIMIT,
  maxValue: DECIMAL_LIMIT,
  precision: 2,
  ...extra,
});
const int = (extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ type: 'integer', ...extra });
const bool = (): ColumnSpec => ({ type: 'boolean' });
const date = (extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ type: 'datetime', ...extra });
const choice = (optionSet: string): ColumnSpec => ({ type: 'choice', optionSet });
/** Single-target lookups navigate under the column's own name; the empty navigation is filled in by buildColumn. */
const lookup = (table: string, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'lookup',
  targets: [{ navigation: '', table }],
  ...extra,
});
const customer = (name: string, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'lookup',
  targets: [
    { navigation: `${name}_account`, table: 'account' },
    { navigation: `${name}_contact`, table: 'contact' },
  ],
  ...extra,
});

const address = (prefix: string): Record<string, ColumnSpec> => ({
  [`${prefix}_name`]: str(200),
  [`${prefix}_line1`]: str(250),
  [`${prefix}_line2`]: str(250),
  [`${prefix}_line3`]: str(250),
  [`${prefix}_city`]: str(80),
  [`${prefix}_stateorprovince`]: str(50),
  [`${prefix}_postalcode`]: str(20),
  [`${prefix}_country`]: str(80),
});

interface TableSpec {
  logicalName: string;
  /** The primary key when it is not `<logicalName>id` (activities: `activityid`). */
  primaryKey?: string;
  schemaName: string;
  entitySet: string;
  primaryName: string;
  columns: Record<string, ColumnSpec>;
  collections?: CollectionNavigation[];
  states: StateDefinition[];
}

const activeInactive: StateDefinition[] = [
  { state: 0, label: 'Active', defaultStatus: 1, statuses: [1] },
  { state: 1, label: 'Inactive', defaultStatus: 2, statuses: [2] },
];

const TABLES: TableSpec[] = [
  {
    logicalName: 'organization',
    schemaName: 'Organization',
    entitySet: 'organizations',
    primaryName: 'name',
    // Pricing decimal precision (0 to 4, 2 by default): the precision of price columns (`PrecisionSource` 1).
    columns: {
      name: str(160),
      createproductswithoutparentinactivestate: bool(),
      pricingdecimalprecision: int({ minValue: 0, maxValue: 4 }),
    },
    states: [],
  },
  {
    logicalName: 'transactioncurrency',
    schemaName: 'TransactionCurrency',
    entitySet: 'transactioncurrencies',
    primaryName: 'currencyname',
    columns: {
      currencyname: str(100, { required: true }),
      isocurrencycode: str(5, { required: true }),
      currencysymbol: str(10),
      exchangerate: decimal({ precision: 10, minValue: 0.0000000001, maxValue: 100000000000 }),
      currencyprecision: int({ minValue: 0, maxValue: 4 }),
    },
    states: activeInactive,
  },
  {
    logicalName: 'uomschedule',
    schemaName: 'UoMSchedule',
    entitySet: 'uomschedules',
    primaryName: 'name',
    columns: { name: str(200, { required: true }), baseuomname: str(100), description: memo() },
    collections: [{ name: 'UoMSchedule_UoM', table: 'uom', lookup: 'uomscheduleid' }],
    states: activeInactive,
  },
  {
    logicalName: 'uom',
    schemaName: 'UoM',
    entitySet: 'uoms',
    primaryName: 'name',
    columns: {
      name: str(100, { required: true }),
      uomscheduleid: lookup('uomschedule', { required: true }),
      baseuom: lookup('uom'),
      quantity: decimal(),
      isschedulebaseuom: bool(),
    },
    states: [],
  },
  {
    logicalName: 'pricelevel',
    schemaName: 'PriceLevel',
    entitySet: 'pricelevels',
    primaryName: 'name',
    columns: {
      name: str(100, { required: true }),
      description: memo(),
      transactioncurrencyid: lookup('transactioncurrency'),
      begindate: date(),
      enddate: date(),
    },
    collections: [{ name: 'price_level_product_price_levels', table: 'productpricelevel', lookup: 'pricelevelid' }],
    states: [
      { state: 0, label: 'Active', defaultStatus: 100001, statuses: [100001] },
      { state: 1, label: 'Inactive', defaultStatus: 100002, statuses: [100002] },
    ],
  },
  {
    logicalName: 'account',
    schemaName: 'Account',
    entitySet: 'accounts',
    primaryName: 'name',
    columns: {
      name: str(160, { required: true }),
      accountnumber: str(20),
      customertypecode: choice('account_customertypecode'),
      accountcategorycode: choice('account_accountcategorycode'),
      ...address('address1'),
      ...address('address2'),
      telephone1: str(50),
      telephone2: str(50),
      fax: str(50),
      emailaddress1: str(100),
      websiteurl: str(200),
      description: memo(),
      paymenttermscode: choice('paymenttermscode'),
      creditlimit: money(),
      creditonhold: bool(),
      revenue: money(),
      primarycontactid: lookup('contact'),
      defaultpricelevelid: lookup('pricelevel'),
      transactioncurrencyid: lookup('transactioncurrency'),
      parentaccountid: lookup('account'),
    },
    collections: [
      { name: 'contact_customer_accounts', table: 'contact', lookup: 'parentcustomerid' },
      { name: 'order_customer_accounts', table: 'salesorder', lookup: 'customerid' },
      { name: 'opportunity_parent_account', table: 'opportunity', lookup: 'parentaccountid' },
    ],
    states: activeInactive,
  },
  {
    logicalName: 'contact',
    schemaName: 'Contact',
    entitySet: 'contacts',
    primaryName: 'fullname',
    columns: {
      firstname: str(50),
      lastname: str(50, { required: true }),
      fullname: str(160, { readOnly: true }),
      jobtitle: str(100),
      emailaddress1: str(100),
      telephone1: str(50),
      mobilephone: str(50),
      ...address('address1'),
      description: memo(),
      parentcustomerid: customer('parentcustomerid'),
      transactioncurrencyid: lookup('transactioncurrency'),
      paymenttermscode: choice('paymenttermscode'),
    },
    states: activeInactive,
  },
  {
    logicalName: 'product',
    schemaName: 'Product',
    entitySet: 'products',
    primaryName: 'name',
    columns: {
      name: str(100, { required: true }),
      productnumber: str(100, { required: true }),
      description: memo(),
      producttypecode: choice('product_producttypecode'),
      productstructure: choice('product_productstructure'),
      // A product cannot be created without its unit group and default unit (the form's "Unit Group" and "Default Unit").
      defaultuomid: lookup('uom', { required: true }),
      defaultuomscheduleid: lookup('uomschedule', { required: true }),
      // Default Price List: set only once the product has a price-list item in that list (records.ts).
      pricelevelid: lookup('pricelevel', { validForCreate: false }),
      // Product table reference: List Price, Standard Cost and Current Cost 0 to 1,000,000,000,000 at the pricing
      // precision; Quantity On Hand 0 to 1,000,000,000 (its precision of 2 is an assumption, not confirmed).
      price: price({ minValue: 0, maxValue: 1000000000000 }),
      standardcost: price({ minValue: 0, maxValue: 1000000000000 }),
      currentcost: price({ minValue: 0, maxValue: 1000000000000 }),
      quantitydecimal: int({ minValue: 0, maxValue: 5 }),
      quantityonhand: decimal({ minValue: 0, maxValue: 1000000000 }),
      transactioncurrencyid: lookup('transactioncurrency'),
      parentproductid: lookup('product'),
    },
    states: [
      { state: 0, label: 'Active', defaultStatus: 1, statuses: [1] },
      { state: 1, label: 'Retired', defaultStatus: 2, statuses: [2] },
      { state: 2, label: 'Draft', defaultStatus: 0, statuses: [0] },
      { state: 3, label: 'Under Revision', defaultStatus: 3, statuses: [3] },
    ],
  },
  {
    logicalName: 'productpricelevel',
    schemaName: 'ProductPriceLevel',
    entitySet: 'productpricelevels',
    primaryName: 'productidname',
    columns: {
      pricelevelid: lookup('pricelevel', { required: true }),
      productid: lookup('product', { required: true }),
      uomid: lookup('uom', { required: true }),
      amount: price({ minValue: 0, maxValue: 100000000000000 }),
      pricingmethodcode: choice('productpricelevel_pricingmethodcode'),
      transactioncurrencyid: lookup('transactioncurrency'),
      productidname: str(100, { readOnly: true }),
    },
    states: [],
  },
  {
    logicalName: 'salesorder',
    schemaName: 'SalesOrder',
    entitySet: 'salesorders',
    primaryName: 'name',
    columns: {
      name: str(300, { required: true }),
      ordernumber: str(100),
      description: memo(),
      customerid: customer('customerid', { required: true }),
      pricelevelid: lookup('pricelevel'),
      transactioncurrencyid: lookup('transactioncurrency'),
      paymenttermscode: choice('paymenttermscode'),
      ...address('billto'),
      ...address('shipto'),
      ispricelocked: bool(),
      freightamount: money(),
      discountamount: money(),
      discountpercentage: decimal(),
      totaltax: money(),
      totallineitemamount: money({ readOnly: true }),
      totalamountlessfreight: money({ readOnly: true }),
      totalamount: money({ readOnly: true }),
      datefulfilled: date(),
      submitdate: date(),
      requestdeliveryby: date(),
    },
    collections: [
      { name: 'order_details', table: 'salesorderdetail', lookup: 'salesorderid' },
      { name: 'salesorder_details', table: 'salesorderdetail', lookup: 'salesorderid' },
      { name: 'order_invoices', table: 'invoice', lookup: 'salesorderid' },
    ],
    states: [
      { state: 0, label: 'Active', defaultStatus: 1, statuses: [1, 2] },
      { state: 1, label: 'Submitted', defaultStatus: 3, statuses: [3] },
      { state: 2, label: 'Canceled', defaultStatus: 4, statuses: [4] },
      { state: 3, label: 'Fulfilled', defaultStatus: 100001, statuses: [100001, 100002] },
      { state: 4, label: 'Invoiced', defaultStatus: 100003, statuses: [100003] },
    ],
  },
  {
    logicalName: 'salesorderdetail',
    schemaName: 'SalesOrderDetail',
    entitySet: 'salesorderdetails',
    primaryName: 'productidname',
    columns: {
      salesorderid: lookup('salesorder', { required: true }),
      productid: lookup('product'),
      uomid: lookup('uom'),
      isproductoverridden: bool(),
      ispriceoverridden: bool(),
      productdescription: str(500),
      productidname: str(100, { readOnly: true }),
      description: memo(),
      quantity: decimal({ precision: 5, minValue: -100000000000, maxValue: 100000000000 }),
      priceperunit: price(),
      baseamount: money({ readOnly: true }),
      manualdiscountamount: money(),
      tax: money(),
      extendedamount: money({ readOnly: true }),
      lineitemnumber: int(),
      sequencenumber: int(),
      transactioncurrencyid: lookup('transactioncurrency'),
    },
    states: [],
  },
  /**
   * Invoices as the Sales solution defines them (MicrosoftDocs dynamics-365-customer-engagement,
   * `ce/developer/entities/invoice.md`): Active (New, Partially Shipped, Billed, Booked, Installed), Closed (deprecated),
   * Paid (Complete, Partial) and Canceled; "paid and canceled invoices are read-only and can't be edited unless they are
   * reactivated" (records.ts). `ConvertSalesOrderToInvoice` makes one from an order with its lines (webApi.ts).
   */
  {
    logicalName: 'invoice',
    schemaName: 'Invoice',
    entitySet: 'invoices',
    primaryName: 'name',
    columns: {
      name: str(300, { required: true }),
      invoicenumber: str(100),
      description: memo(),
      customerid: customer('customerid', { required: true }),
      salesorderid: lookup('salesorder'),
      pricelevelid: lookup('pricelevel'),
      transactioncurrencyid: lookup('transactioncurrency'),
      paymenttermscode: choice('paymenttermscode'),
      ...address('billto'),
      ...address('shipto'),
      ispricelocked: bool(),
      freightamount: money(),
      discountamount: money(),
      discountpercentage: decimal(),
      totaltax: money(),
      totallineitemamount: money({ readOnly: true }),
      totalamountlessfreight: money({ readOnly: true }),
      totalamount: money({ readOnly: true }),
      duedate: date(),
      datedelivered: date(),
    },
    collections: [{ name: 'invoice_details', table: 'invoicedetail', lookup: 'invoiceid' }],
    states: [
      { state: 0, label: 'Active', defaultStatus: 1, statuses: [1, 2, 4, 5, 6] },
      // The documentation gives Closed (deprecated) the default status 100003, a status of Canceled; the sandbox keeps
      // the statuses the state lists (assumption: no client should move an invoice to Closed any more).
      { state: 1, label: 'Closed', defaultStatus: 3, statuses: [3, 7] },
      { state: 2, label: 'Paid', defaultStatus: 100001, statuses: [100001, 100002] },
      { state: 3, label: 'Canceled', defaultStatus: 100003, statuses: [100003] },
    ],
  },
  {
    logicalName: 'invoicedetail',
    schemaName: 'InvoiceDetail',
    entitySet: 'invoicedetails',
    primaryName: 'productidname',
    columns: {
      invoiceid: lookup('invoice', { required: true }),
      salesorderdetailid: lookup('salesorderdetail'),
      productid: lookup('product'),
      uomid: lookup('uom'),
      isproductoverridden: bool(),
      ispriceoverridden: bool(),
      productdescription: str(500),
      productidname: str(100, { readOnly: true }),
      description: memo(),
      quantity: decimal(),
      priceperunit: money(),
      baseamount: money({ readOnly: true }),
      manualdiscountamount: money(),
      tax: money(),
      extendedamount: money({ readOnly: true }),
      lineitemnumber: int(),
      transactioncurrencyid: lookup('transactioncurrency'),
    },
    states: [],
  },
  /**
   * Opportunities (learn.microsoft.com, `opportunity` table reference): Open (In Progress 1, On Hold 2), Won (Won 3),
   * Lost (Canceled 4, Out-Sold 5). The account is `parentaccountid`; `customerid` (Potential Customer) may name an
   * account or a contact. Totals are computed from the lines, as on orders.
   */
  {
    logicalName: 'opportunity',
    schemaName: 'Opportunity',
    entitySet: 'opportunities',
    primaryName: 'name',
    columns: {
      name: str(300, { required: true }),
      description: memo(),
      customerid: customer('customerid'),
      parentaccountid: lookup('account'),
      parentcontactid: lookup('contact'),
      pricelevelid: lookup('pricelevel'),
      transactioncurrencyid: lookup('transactioncurrency'),
      estimatedvalue: money(),
      estimatedclosedate: date(),
      closeprobability: int(),
      actualvalue: money(),
      actualclosedate: date(),
      ispricelocked: bool(),
      freightamount: money(),
      discountamount: money(),
      discountpercentage: decimal(),
      totaltax: money(),
      totallineitemamount: money({ readOnly: true }),
      totalamountlessfreight: money({ readOnly: true }),
      totalamount: money({ readOnly: true }),
    },
    collections: [
      { name: 'product_opportunities', table: 'opportunityproduct', lookup: 'opportunityid' },
      { name: 'Opportunity_OpportunityClose', table: 'opportunityclose', lookup: 'opportunityid' },
    ],
    states: [
      { state: 0, label: 'Open', defaultStatus: 1, statuses: [1, 2] },
      { state: 1, label: 'Won', defaultStatus: 3, statuses: [3] },
      { state: 2, label: 'Lost', defaultStatus: 4, statuses: [4, 5] },
    ],
  },
  {
    logicalName: 'opportunityproduct',
    schemaName: 'OpportunityProduct',
    entitySet: 'opportunityproducts',
    primaryName: 'productidname',
    columns: {
      opportunityid: lookup('opportunity', { required: true }),
      productid: lookup('product'),
      uomid: lookup('uom'),
      isproductoverridden: bool(),
      ispriceoverridden: bool(),
      productdescription: str(500),
      productidname: str(100, { readOnly: true }),
      description: memo(),
      quantity: decimal(),
      priceperunit: money(),
      baseamount: money({ readOnly: true }),
      manualdiscountamount: money(),
      tax: money(),
      extendedamount: money({ readOnly: true }),
      lineitemnumber: int(),
      sequencenumber: int(),
      transactioncurrencyid: lookup('transactioncurrency'),
    },
    states: [],
  },
  /**
   * The activity WinOpportunity / LoseOpportunity record the close with (an activity: primary key `activityid`). It is
   * created Completed by the action; the sandbox offers no other way to write one.
   */
  {
    logicalName: 'opportunityclose',
    schemaName: 'OpportunityClose',
    entitySet: 'opportunitycloses',
    primaryKey: 'activityid',
    primaryName: 'subject',
    columns: {
      subject: str(200),
      description: memo(),
      opportunityid: lookup('opportunity'),
      actualrevenue: money(),
      actualend: date(),
      competitorid: lookup('account'),
    },
    states: [
      { state: 0, label: 'Open', defaultStatus: 1, statuses: [1] },
      { state: 1, label: 'Completed', defaultStatus: 2, statuses: [2] },
      { state: 2, label: 'Canceled', defaultStatus: 3, statuses: [3] },
    ],
  },
];

/**
 * Dataverse supports optimistic concurrency on the out-of-box tables enabled for offline sync and on custom tables
 * (learn.microsoft.com/power-apps/developer/data-platform/optimistic-concurrency). Which built-in tables are left out
 * is an assumption of the sandbox: price-list items stand for them so a client that sends `If-Match: <etag>`
 * everywhere is caught.
 */
const TABLES_WITHOUT_OPTIMISTIC_CONCURRENCY: ReadonlySet<string> = new Set(['productpricelevel']);

const OPTION_SETS: Record<string, OptionDefinition[]> = {
  account_customertypecode: [
    'Competitor',
    'Consultant',
    'Customer',
    'Investor',
    'Partner',
    'Influencer',
    'Press',
    'Prospect',
    'Reseller',
    'Supplier',
    'Vendor',
    'Other',
  ].map((label, i) => ({ value: i + 1, label })),
  account_accountcategorycode: [
    { value: 1, label: 'Preferred Customer' },
    { value: 2, label: 'Standard' },
  ],
  paymenttermscode: [
    { value: 1, label: 'Net 30' },
    { value: 2, label: '2% 10, Net 30' },
    { value: 3, label: 'Net 45' },
    { value: 4, label: 'Net 60' },
  ],
  product_producttypecode: [
    { value: 1, label: 'Sales Inventory' },
    { value: 2, label: 'Miscellaneous Charges' },
    { value: 3, label: 'Services' },
    { value: 4, label: 'Flat Fees' },
  ],
  product_productstructure: [
    { value: 1, label: 'Product' },
    { value: 2, label: 'Product Family' },
    { value: 3, label: 'Product Bundle' },
  ],
  productpricelevel_pricingmethodcode: [
    { value: 1, label: 'Currency Amount' },
    { value: 2, label: 'Percent of List' },
  ],
};

/** Schema names the platform would show: capitalised logical names are close enough for the sandbox. */
function schemaNameOf(logicalName: string): string {
  return logicalName.charAt(0).toUpperCase() + logicalName.slice(1);
}

function buildColumn(table: string, name: string, spec: ColumnSpec): ColumnDefinition {
  const column: ColumnDefinition = {
    ...spec,
    name,
    schemaName: schemaNameOf(name),
    metadataId: deterministicGuid(`attribute:${table}.${name}`),
  };
  if (spec.targets !== undefined) {
    column.targets = spec.targets.map((t) => ({
      navigation: t.navigation === '' ? name : t.navigation,
      table: t.table,
    }));
  }
  return column;
}

/** Columns every table has; `statecode`/`statuscode` only where the table has states. */
function systemColumns(spec: TableSpec, primaryKey: string): Record<string, ColumnSpec> {
  const columns: Record<string, ColumnSpec> = {
    [primaryKey]: { type: 'uniqueidentifier' },
    createdon: date({ readOnly: true }),
    modifiedon: date({ readOnly: true }),
    versionnumber: int({ readOnly: true }),
  };
  if (spec.states.length > 0) {
    columns.statecode = { type: 'choice', optionSet: `${spec.logicalName}_statecode` };
    columns.statuscode = { type: 'choice', optionSet: `${spec.logicalName}_statuscode` };
  }
  return columns;
}

export class Schema {
  readonly tables = new Map<string, TableDefinition>();
  readonly bySet = new Map<string, TableDefinition>();
  readonly optionSets = new Map<string, OptionDefinition[]>();

  constructor() {
    for (const [name, options] of Object.entries(OPTION_SETS))
      this.optionSets.set(
        name,
        options.map((o) => ({ ...o })),
      );
    for (const spec of TABLES) {
      const primaryKey = spec.primaryKey ?? `${spec.logicalName}id`;
      const columns = new Map<string, ColumnDefinition>();
      const all = { ...systemColumns(spec, primaryKey), ...spec.columns };
      for (const [name, columnSpec] of Object.entries(all))
        columns.set(name, buildColumn(spec.logicalName, name, columnSpec));
      const table: TableDefinition = {
        logicalName: spec.logicalName,
        schemaName: spec.schemaName,
        entitySet: spec.entitySet,
        primaryKey,
        primaryName: spec.primaryName,
        columns,
        collections: spec.collections ?? [],
        states: spec.states,
        keys: [],
        optimisticConcurrency: !TABLES_WITHOUT_OPTIMISTIC_CONCURRENCY.has(spec.logicalName),
        metadataId: deterministicGuid(`entity:${spec.logicalName}`),
      };
      this.tables.set(table.logicalName, table);
      this.bySet.set(table.entitySet, table);
    }
  }

  table(logicalName: string): TableDefinition {
    const table = this.tables.get(logicalName);
    if (table === undefined) throw new Error(`unknown table ${logicalName}`);
    return table;
  }

  /**
   * Finds the table and lookup a `<navigation>@odata.bind` or `$expand=<navigation>` names. Navigation properties are
   * case-sensitive in Dataverse (`ParentCustomerId_account` is not `parentcustomerid_account`).
   */
  navigation(
    table: TableDefinition,
    navigation: string,
  ): { column: ColumnDefinition; target: LookupTarget } | undefined {
    for (const column of table.columns.values()) {
      const target = column.targets?.find((t) => t.navigation === navigation);
      if (target !== undefined) return { column, target };
    }
    return undefined;
  }

  /** Valid values of a choice column; `undefined` means any integer (state/status handled by the table's states). */
  optionValues(table: TableDefinition, column: ColumnDefinition): number[] | undefined {
    if (column.name === 'statecode') return table.states.map((s) => s.state);
    if (column.name === 'statuscode') return table.states.flatMap((s) => s.statuses);
    if (column.optionSet === undefined) return undefined;
    return this.optionSets.get(column.optionSet)?.map((o) => o.value);
  }

  optionLabel(table: TableDefinition, column: ColumnDefinition, value: number): string | undefined {
    if (column.name === 'statecode') return table.states.find((s) => s.state === value)?.label;
    if (column.optionSet === undefined) return undefined;
    return this.optionSets.get(column.optionSet)?.find((o) => o.value === value)?.label;
  }
}
