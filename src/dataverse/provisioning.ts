import { type Logger } from 'pino';
import { type DataverseClient } from './client';
import {
  COMPANY_FILE_COLUMN,
  ENTITY_SETS,
  INVOICE_NUMBER_COLUMN,
  QB_DELETED_COLUMN,
  QB_LIST_ID_COLUMN,
  QB_TXN_ID_COLUMN,
  SOURCE_KEY_NAME,
} from './entities';
import {
  ESTIMATE_NUMBER_COLUMN,
  ESTIMATE_TXN_ID_COLUMN,
  SALES_ORDER_NUMBER_COLUMN,
  SALES_ORDER_TXN_ID_COLUMN,
} from '../mapping/entityRegistry';

/**
 * Creates the connector's columns and alternate keys through the metadata Web API, reading first and creating only
 * what is missing, so running it again (or after a partial failure) is safe.
 */

export interface ConnectorColumn {
  table: string;
  logicalName: string;
  schemaName: string;
  displayName: string;
  description: string;
  maxLength: number;
}

export interface ConnectorKey {
  table: string;
  logicalName: string;
  schemaName: string;
  displayName: string;
  keyAttributes: string[];
}

const QB_SOURCED_TABLES = ['account', 'contact', 'product'] as const;

/** ListIDs/TxnIDs are short (`80000001-1234567890`); company-file names are operator-chosen labels. */
const CONNECTOR_COLUMNS: readonly ConnectorColumn[] = [
  ...[...QB_SOURCED_TABLES, 'salesorder', 'opportunity'].map((table) => ({
    table,
    logicalName: COMPANY_FILE_COLUMN,
    schemaName: 'qbsync_CompanyFile',
    displayName: 'QuickBooks company file',
    description: 'QuickBooks company file (connection) this row is synchronised with.',
    maxLength: 100,
  })),
  ...QB_SOURCED_TABLES.map((table) => ({
    table,
    logicalName: QB_LIST_ID_COLUMN,
    schemaName: 'qbsync_QbListId',
    displayName: 'QuickBooks ListID',
    description: 'ListID of the QuickBooks record this row is synchronised with.',
    maxLength: 100,
  })),
  {
    table: 'salesorder',
    logicalName: QB_TXN_ID_COLUMN,
    schemaName: 'qbsync_QbTxnId',
    displayName: 'QuickBooks TxnID',
    description: 'TxnID of the QuickBooks transaction this order is synchronised with.',
    maxLength: 100,
  },
  {
    table: 'salesorder',
    logicalName: INVOICE_NUMBER_COLUMN,
    schemaName: 'qbsync_InvoiceNumber',
    displayName: 'QuickBooks invoice number',
    description: 'Number of the QuickBooks invoice created from this order.',
    maxLength: 100,
  },
  {
    table: 'salesorder',
    logicalName: 'qbsync_balance',
    schemaName: 'qbsync_Balance',
    displayName: 'QuickBooks invoice balance',
    description: 'Amount still owed on the QuickBooks invoice, to the cent (decimal text, as QuickBooks reports it).',
    maxLength: 40,
  },
  {
    table: 'salesorder',
    logicalName: 'qbsync_invoicestatus',
    schemaName: 'qbsync_InvoiceStatus',
    displayName: 'QuickBooks invoice status',
    description:
      'Open or Paid, following the QuickBooks invoice; in sales-order mode PartlyInvoiced or Invoiced, following the QuickBooks sales order.',
    maxLength: 20,
  },
  {
    table: 'salesorder',
    logicalName: SALES_ORDER_TXN_ID_COLUMN,
    schemaName: 'qbsync_SalesOrderTxnId',
    displayName: 'QuickBooks sales order TxnID',
    description: 'Sales-order mode: TxnID of the QuickBooks sales order created from this order.',
    maxLength: 100,
  },
  {
    table: 'salesorder',
    logicalName: SALES_ORDER_NUMBER_COLUMN,
    schemaName: 'qbsync_SalesOrderNumber',
    displayName: 'QuickBooks sales order number',
    description: 'Sales-order mode: number (RefNumber) of the QuickBooks sales order created from this order.',
    maxLength: 100,
  },
  {
    table: 'opportunity',
    logicalName: ESTIMATE_TXN_ID_COLUMN,
    schemaName: 'qbsync_EstimateTxnId',
    displayName: 'QuickBooks estimate TxnID',
    description: 'TxnID of the QuickBooks estimate created from this won opportunity.',
    maxLength: 100,
  },
  {
    table: 'opportunity',
    logicalName: ESTIMATE_NUMBER_COLUMN,
    schemaName: 'qbsync_EstimateNumber',
    displayName: 'QuickBooks estimate number',
    description: 'Number (RefNumber) of the QuickBooks estimate created from this won opportunity.',
    maxLength: 100,
  },
  // The QuickBooks invoice as a Dynamics invoice row (made from its order by ConvertSalesOrderToInvoice): which
  // company file and invoice it is, and its balance and state, kept there since the order is read-only once invoiced.
  ...[
    {
      logicalName: COMPANY_FILE_COLUMN,
      schemaName: 'qbsync_CompanyFile',
      displayName: 'QuickBooks company file',
      maxLength: 100,
    },
    { logicalName: QB_TXN_ID_COLUMN, schemaName: 'qbsync_QbTxnId', displayName: 'QuickBooks TxnID', maxLength: 100 },
    {
      logicalName: INVOICE_NUMBER_COLUMN,
      schemaName: 'qbsync_InvoiceNumber',
      displayName: 'QuickBooks invoice number',
      maxLength: 100,
    },
    {
      logicalName: 'qbsync_balance',
      schemaName: 'qbsync_Balance',
      displayName: 'QuickBooks invoice balance',
      maxLength: 40,
    },
    {
      logicalName: 'qbsync_invoicestatus',
      schemaName: 'qbsync_InvoiceStatus',
      displayName: 'QuickBooks invoice status',
      maxLength: 20,
    },
  ].map((column) => ({
    table: 'invoice',
    ...column,
    description: `${column.displayName} of the QuickBooks invoice this invoice row stands for (written by the connector).`,
  })),
  // The values both systems agreed on at the last sync: what makes a three-way merge (and echo detection) possible.
  ...(['account', 'product'] as const).map((table) => ({
    table,
    logicalName: 'qbsync_syncbase',
    schemaName: 'qbsync_SyncBase',
    displayName: 'QuickBooks sync base',
    description: 'Synced field values as both systems held them after the last sync (JSON, written by the connector).',
    maxLength: 4000,
  })),
  // A QuickBooks deletion deactivates the paired row and records when it happened here; the row is never deleted.
  ...(['account', 'product'] as const).map((table) => ({
    table,
    logicalName: QB_DELETED_COLUMN,
    schemaName: 'qbsync_QbDeletedOn',
    displayName: 'Deleted in QuickBooks',
    description:
      'When the paired QuickBooks record was deleted (its TimeDeleted); the row was deactivated then and is no longer synchronised.',
    maxLength: 40,
  })),
];

const CONNECTOR_KEYS: readonly ConnectorKey[] = QB_SOURCED_TABLES.map((table) => ({
  table,
  logicalName: SOURCE_KEY_NAME,
  schemaName: 'qbsync_SourceKey',
  displayName: 'QuickBooks source key',
  keyAttributes: [COMPANY_FILE_COLUMN, QB_LIST_ID_COLUMN],
}));

export interface ProvisioningReport {
  /** `table.column` and `table.key.name` items this run created. */
  created: string[];
  /** Items that were already there. */
  existing: string[];
  /** Organization setting: products without a family start Active instead of Draft (reference §2.2). */
  createProductsWithoutParentInActiveState: boolean;
  /**
   * Keys whose uniqueness index was still Pending or In Progress when provisioning stopped waiting (`table.key.name` →
   * status); writes by key fail until they are Active.
   */
  keysNotActive: Record<string, string>;
  /** Keys whose index Dataverse could not build (`table.key.name` → why and what to do); they never turn Active alone. */
  keysFailed: Record<string, string>;
}

export interface KeyWaitOptions {
  /** Give up waiting after this long and report the keys still indexing (default 15 minutes: big tables take long). */
  timeoutMs?: number;
  /** The longest pause between two reads of the key states (default 5 s); the first reads come sooner. */
  pollIntervalMs?: number;
}

export interface ProvisioningOptions {
  log: Logger;
  /** Put new components into this unmanaged solution (`MSCRM.SolutionUniqueName`). */
  solutionUniqueName?: string;
  /** Waiting for new alternate keys to turn Active; `false` returns at once with their states. */
  waitForKeys?: KeyWaitOptions | false;
  /** Called after each read of the key states while waiting, e.g. to print progress. */
  onKeyProgress?: (states: Record<string, string>, waitedMs: number) => void;
}

const KEY_FAILED_ADVICE =
  'Dataverse could not build the unique index, usually because rows already share a key value: remove the duplicates, then reactivate the key (ReactivateEntityKey, or "Reactivate" on the key in the maker portal) and run provisioning again';

export async function provisionDataverse(
  client: DataverseClient,
  options: ProvisioningOptions,
): Promise<ProvisioningReport> {
  const { log } = options;
  const headers: Record<string, string> = options.solutionUniqueName
    ? { 'MSCRM.SolutionUniqueName': options.solutionUniqueName }
    : {};
  // Metadata may be cached; provisioning must see what is really there.
  const readHeaders = { Consistency: 'Strong' };
  const report: ProvisioningReport = {
    created: [],
    existing: [],
    createProductsWithoutParentInActiveState: false,
    keysNotActive: {},
    keysFailed: {},
  };

  const tables = [...new Set([...CONNECTOR_COLUMNS.map((c) => c.table), ...CONNECTOR_KEYS.map((k) => k.table)])];
  for (const table of tables) {
    const entity = `EntityDefinitions(LogicalName='${table}')`;
    const present = await logicalNames(client, `${entity}/Attributes`, readHeaders);
    for (const column of CONNECTOR_COLUMNS.filter((c) => c.table === table)) {
      const item = `${table}.${column.logicalName}`;
      if (present.has(column.logicalName)) {
        report.existing.push(item);
        continue;
      }
      await client.execute('POST', `${entity}/Attributes`, { body: stringAttribute(column), headers });
      report.created.push(item);
      log.info({ table, column: column.logicalName }, 'created connector column');
    }

    const keys = await entityKeys(client, `${entity}/Keys`, readHeaders);
    for (const key of CONNECTOR_KEYS.filter((k) => k.table === table)) {
      const item = `${table}.key.${key.logicalName}`;
      const found = keys.find(
        (k) => k.logicalName === key.logicalName || sameColumns(k.keyAttributes, key.keyAttributes),
      );
      if (found) {
        report.existing.push(item);
        if (found.status && found.status !== 'Active') report.keysNotActive[item] = found.status;
        continue;
      }
      await client.execute('POST', `${entity}/Keys`, { body: entityKey(key), headers });
      report.created.push(item);
      report.keysNotActive[item] = 'Pending';
      log.info({ table, key: key.logicalName }, 'created connector alternate key');
    }
  }

  const org = await client.execute('GET', ENTITY_SETS.organization, {
    query: '$select=createproductswithoutparentinactivestate',
  });
  const first = valueOf(org.body)[0];
  report.createProductsWithoutParentInActiveState = first?.createproductswithoutparentinactivestate === true;
  if (options.waitForKeys !== false) await waitForKeys(client, report, readHeaders, options);
  for (const [item, status] of Object.entries(report.keysNotActive)) {
    if (status === 'Failed') {
      delete report.keysNotActive[item];
      report.keysFailed[item] = KEY_FAILED_ADVICE;
    }
  }
  for (const [item, status] of Object.entries(report.keysNotActive)) {
    log.warn({ key: item, status }, 'alternate key not active yet; upserts by key fail until it is');
  }
  for (const [item, reason] of Object.entries(report.keysFailed))
    log.error({ key: item, reason }, 'alternate key failed');
  return report;
}

/** What provisioning would find, read only: what `qbsync check` reports. */
export interface ProvisioningState {
  /** `table.column` items that do not exist. */
  missingColumns: string[];
  /** `table.key.name` → `Active`, `Pending`, `InProgress`, `Failed` or `Missing`, for every connector key. */
  keys: Record<string, string>;
  createProductsWithoutParentInActiveState: boolean;
}

export async function inspectProvisioning(client: DataverseClient): Promise<ProvisioningState> {
  const headers = { Consistency: 'Strong' };
  const state: ProvisioningState = { missingColumns: [], keys: {}, createProductsWithoutParentInActiveState: false };
  const tables = [...new Set([...CONNECTOR_COLUMNS.map((c) => c.table), ...CONNECTOR_KEYS.map((k) => k.table)])];
  for (const table of tables) {
    const entity = `EntityDefinitions(LogicalName='${table}')`;
    const present = await logicalNames(client, `${entity}/Attributes`, headers);
    for (const column of CONNECTOR_COLUMNS.filter((c) => c.table === table)) {
      if (!present.has(column.logicalName)) state.missingColumns.push(`${table}.${column.logicalName}`);
    }
    const keys = await entityKeys(client, `${entity}/Keys`, headers);
    for (const key of CONNECTOR_KEYS.filter((k) => k.table === table)) {
      const found = keys.find(
        (k) => k.logicalName === key.logicalName || sameColumns(k.keyAttributes, key.keyAttributes),
      );
      state.keys[`${table}.key.${key.logicalName}`] = found === undefined ? 'Missing' : (found.status ?? 'Active');
    }
  }
  const org = await client.execute('GET', ENTITY_SETS.organization, {
    query: '$select=createproductswithoutparentinactivestate',
  });
  state.createProductsWithoutParentInActiveState =
    valueOf(org.body)[0]?.createproductswithoutparentinactivestate === true;
  return state;
}

/** Re-reads the keys still Pending or In Progress until each is Active or Failed, or the wait times out. */
async function waitForKeys(
  client: DataverseClient,
  report: ProvisioningReport,
  headers: Record<string, string>,
  options: ProvisioningOptions,
): Promise<void> {
  const wait = options.waitForKeys === false ? {} : (options.waitForKeys ?? {});
  const timeoutMs = wait.timeoutMs ?? 15 * 60_000;
  const pollIntervalMs = wait.pollIntervalMs ?? 5_000;
  const started = Date.now();
  const indexing = (): string[] =>
    Object.entries(report.keysNotActive)
      .filter(([, status]) => status !== 'Failed')
      .map(([item]) => item);
  // Small tables index in a second or two: look early, then back off to the interval.
  let pause = Math.min(200, pollIntervalMs);
  while (indexing().length > 0 && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, timeoutMs)));
    pause = Math.min(pause * 2, pollIntervalMs);
    const states: Record<string, string> = {};
    for (const item of indexing()) {
      const [table] = item.split('.');
      const wanted = CONNECTOR_KEYS.find((k) => `${k.table}.key.${k.logicalName}` === item);
      if (table === undefined || wanted === undefined) continue;
      const keys = await entityKeys(client, `EntityDefinitions(LogicalName='${table}')/Keys`, headers);
      const found = keys.find(
        (k) => k.logicalName === wanted.logicalName || sameColumns(k.keyAttributes, wanted.keyAttributes),
      );
      const status = found === undefined ? 'Missing' : (found.status ?? 'Active');
      states[item] = status;
      if (status === 'Active') delete report.keysNotActive[item];
      else report.keysNotActive[item] = status;
    }
    const waitedMs = Date.now() - started;
    options.log.info({ keys: states, waitedMs }, 'waiting for alternate keys to turn Active');
    options.onKeyProgress?.(states, waitedMs);
  }
}

async function logicalNames(
  client: DataverseClient,
  path: string,
  headers: Record<string, string>,
): Promise<Set<string>> {
  const res = await client.execute('GET', path, { query: '$select=LogicalName', headers });
  return new Set(valueOf(res.body).map((a) => String(a.LogicalName ?? '').toLowerCase()));
}

interface ExistingKey {
  logicalName: string;
  keyAttributes: string[];
  status: string | undefined;
}

async function entityKeys(
  client: DataverseClient,
  path: string,
  headers: Record<string, string>,
): Promise<ExistingKey[]> {
  const res = await client.execute('GET', path, {
    query: '$select=LogicalName,SchemaName,KeyAttributes,EntityKeyIndexStatus',
    headers,
  });
  return valueOf(res.body).map((k) => ({
    logicalName: String(k.LogicalName ?? k.SchemaName ?? '').toLowerCase(),
    keyAttributes: Array.isArray(k.KeyAttributes) ? k.KeyAttributes.map((a) => String(a).toLowerCase()) : [],
    status: typeof k.EntityKeyIndexStatus === 'string' ? k.EntityKeyIndexStatus : undefined,
  }));
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

function valueOf(body: unknown): Array<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null || !('value' in body) || !Array.isArray(body.value)) {
    throw new Error('metadata response without a "value" collection');
  }
  return body.value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
}

function label(text: string): Record<string, unknown> {
  return {
    '@odata.type': 'Microsoft.Dynamics.CRM.Label',
    LocalizedLabels: [{ '@odata.type': 'Microsoft.Dynamics.CRM.LocalizedLabel', Label: text, LanguageCode: 1033 }],
  };
}

/** StringAttributeMetadata for a single line of text (the only column kind a key on text accepts). */
function stringAttribute(c: ConnectorColumn): Record<string, unknown> {
  return {
    '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata',
    AttributeType: 'String',
    AttributeTypeName: { Value: 'StringType' },
    SchemaName: c.schemaName,
    DisplayName: label(c.displayName),
    Description: label(c.description),
    RequiredLevel: {
      Value: 'None',
      CanBeChanged: true,
      ManagedPropertyLogicalName: 'canmodifyrequirementlevelsettings',
    },
    MaxLength: c.maxLength,
    FormatName: { Value: 'Text' },
  };
}

function entityKey(k: ConnectorKey): Record<string, unknown> {
  return {
    '@odata.type': 'Microsoft.Dynamics.CRM.EntityKeyMetadata',
    SchemaName: k.schemaName,
    DisplayName: label(k.displayName),
    KeyAttributes: k.keyAttributes,
  };
}
