import type { Client } from '@temporalio/client';
import type { DataverseClient, DataverseRow } from '../../src/dataverse/client';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { INVOICE_ROW } from '../../src/mapping/entityRegistry';
import type { CustomerRet, InvoiceRet } from '../../src/qbxml/requests';
import type { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import { askQuickBooks, OFFICES, type ChaosLoad, type Office, type PhoneWrite } from './load';

/**
 * The chaos run's judgement, from outside the connector: QuickBooks is asked over qbXML (what QBWC hands the company
 * file), Dynamics over its Web API, Temporal's visibility only for what is still running. Nothing the connector
 * remembers about itself is trusted.
 */

/** Two writes on different sides this close together are a fair conflict: either may win. */
const CONFLICT_WINDOW_MS = 3000;
const LISTED = 20;

export interface Finding {
  check: string;
  detail: string;
}

export interface Verdict {
  lost: number;
  duplicated: number;
  stuck: number;
  /**
   * Edited customers whose phone differs between QuickBooks and Dynamics once the system converged: each one is a
   * failure of the run like a lost record (issue 11: the two systems must agree, whichever value won).
   */
  disagreed: number;
  /** Each check's count, and up to 20 findings each, named so a person can look them up. */
  byCheck: Record<string, number>;
  findings: Finding[];
  stuckWorkflows: string[];
  /**
   * Record runs that ended without success, each with the reason it gave (decoded through the codec, as
   * `qbsync failed` prints it), so a run that failed for good explains itself in bench/results/chaos.json.
   */
  failedRuns: { count: number; ids: string[]; reasons: Record<string, string> };
  checked: Record<string, number>;
}

const guid = (value: unknown): string =>
  String(value ?? '')
    .replace(/[{}]/g, '')
    .toLowerCase();

async function rows(dynamics: DataverseClient, entitySet: string, select: string[]): Promise<DataverseRow[]> {
  const out: DataverseRow[] = [];
  for await (const row of dynamics.queryRows(entitySet, { select })) out.push(row);
  return out;
}

const RECORD_TYPES = "WorkflowType IN ('dataverseRecordSync', 'quickbooksRecordSync')";

export async function runningWorkflows(client: Client, types = RECORD_TYPES): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running' AND ${types}` })) {
    ids.push(w.workflowId);
  }
  return ids;
}

export async function judge(input: {
  files: ReadonlyMap<string, CompanyFileSimulator>;
  dynamics: DataverseClient;
  temporal: Client;
  load: ChaosLoad;
}): Promise<Verdict> {
  const { files, dynamics, temporal, load } = input;
  const byCheck: Record<string, number> = {};
  const findings: Finding[] = [];
  const found = (check: string, detail: string, n = 1): void => {
    byCheck[check] = (byCheck[check] ?? 0) + n;
    if (findings.filter((f) => f.check === check).length < LISTED) findings.push({ check, detail });
  };
  const file = (office: Office): CompanyFileSimulator => {
    const f = files.get(office);
    if (!f) throw new Error(`no company file ${office}`);
    return f;
  };

  const accounts = await rows(dynamics, ENTITY_SETS.account, [
    'accountid',
    'name',
    'telephone1',
    'qbsync_companyfile',
    'qbsync_qblistid',
    'statecode',
  ]);
  const products = await rows(dynamics, ENTITY_SETS.product, [
    'productid',
    'productnumber',
    'qbsync_companyfile',
    'qbsync_qblistid',
  ]);
  const orders = await rows(dynamics, ENTITY_SETS.salesorder, ['salesorderid', 'name', 'statecode', 'qbsync_qbtxnid']);
  // Since issue 13 the QuickBooks invoice's balance lives on the order's invoice row, not on the (read-only) order.
  const invoiceRows = await rows(dynamics, INVOICE_ROW.entitySet, [
    'invoiceid',
    INVOICE_ROW.orderColumn,
    'qbsync_qbtxnid',
    'qbsync_balance',
  ]);
  const invoiceRowsByOrder = new Map<string, DataverseRow[]>();
  for (const r of invoiceRows) {
    const order = guid(r[INVOICE_ROW.orderColumn]);
    invoiceRowsByOrder.set(order, [...(invoiceRowsByOrder.get(order) ?? []), r]);
  }
  const accountByKey = new Map<string, DataverseRow[]>();
  for (const a of accounts) {
    if (a.qbsync_qblistid == null) continue;
    const key = `${String(a.qbsync_companyfile)}:${String(a.qbsync_qblistid)}`;
    accountByKey.set(key, [...(accountByKey.get(key) ?? []), a]);
  }

  // ---- duplicates: one account per customer name and office, one product per number and office, one invoice per order
  const groups = (items: DataverseRow[], key: (r: DataverseRow) => string | undefined): DataverseRow[][] => {
    const map = new Map<string, DataverseRow[]>();
    for (const r of items) {
      const k = key(r);
      if (k !== undefined) map.set(k, [...(map.get(k) ?? []), r]);
    }
    return [...map.values()].filter((g) => g.length > 1);
  };
  for (const g of groups(accounts, (a) =>
    a.qbsync_companyfile ? `${String(a.qbsync_companyfile)}:${String(a.name).toLowerCase()}` : undefined,
  )) {
    found(
      'duplicateAccount',
      `${String(g[0]?.qbsync_companyfile)} "${String(g[0]?.name)}": ${g.map((a) => String(a.accountid)).join(', ')}`,
      g.length - 1,
    );
  }
  for (const g of groups(products, (p) =>
    p.qbsync_companyfile && p.productnumber ? `${String(p.qbsync_companyfile)}:${String(p.productnumber)}` : undefined,
  )) {
    found('duplicateProduct', `${String(g[0]?.qbsync_companyfile)} ${String(g[0]?.productnumber)}`, g.length - 1);
  }

  const invoicesByOrder = new Map<string, { office: Office; invoice: InvoiceRet }[]>();
  const customers = new Map<Office, CustomerRet[]>();
  for (const office of OFFICES) {
    const invoices = askQuickBooks(file(office), '<InvoiceQueryRq></InvoiceQueryRq>') as InvoiceRet[];
    for (const invoice of invoices) {
      if (!invoice.externalGuid) continue;
      const id = guid(invoice.externalGuid);
      invoicesByOrder.set(id, [...(invoicesByOrder.get(id) ?? []), { office, invoice }]);
    }
    customers.set(
      office,
      askQuickBooks(
        file(office),
        '<CustomerQueryRq><ActiveStatus>All</ActiveStatus></CustomerQueryRq>',
      ) as CustomerRet[],
    );
  }
  for (const [orderId, invoices] of invoicesByOrder) {
    if (invoices.length > 1) {
      found(
        'duplicateInvoice',
        `order ${orderId}: ${invoices.map((i) => `${i.office} ${i.invoice.refNumber ?? ''} ${i.invoice.txnId}`).join(', ')}`,
        invoices.length - 1,
      );
    }
  }

  // ---- lost: every customer paired, every account made a customer, every order invoiced, every edit arrived ----
  for (const office of OFFICES) {
    for (const c of customers.get(office) ?? []) {
      const paired = accountByKey.get(`${office}:${c.listId}`) ?? [];
      if (paired.length === 0) found('customerWithoutAccount', `${office} "${c.fullName ?? c.name}" ${c.listId}`);
    }
  }
  const customerIds = new Map(
    OFFICES.map((o) => [o, new Map((customers.get(o) ?? []).map((c) => [c.listId, c] as const))] as const),
  );
  for (const added of load.accountsAdded) {
    const row = accounts.find((a) => guid(a.accountid) === guid(added.id));
    const listId = row?.qbsync_qblistid;
    if (listId == null || !customerIds.get(added.office)?.has(String(listId))) {
      found('accountWithoutCustomer', `${added.office} "${added.name}" ${added.id}`);
    }
  }
  for (const [orderId, office] of load.orders) {
    const invoices = invoicesByOrder.get(guid(orderId)) ?? [];
    const row = orders.find((o) => guid(o.salesorderid) === guid(orderId));
    if (invoices.length === 0) {
      found(
        'orderWithoutInvoice',
        `${office} order ${orderId} "${String(row?.name ?? '')}" (workflow d365/salesorder/…)`,
      );
      continue;
    }
    const invoice = invoices[0]!.invoice;
    if (guid(row?.qbsync_qbtxnid) !== guid(invoice.txnId)) {
      found('orderLinkWrong', `order ${orderId} says ${String(row?.qbsync_qbtxnid)}, QuickBooks has ${invoice.txnId}`);
    }
  }
  // Payments: every invoiced order has one invoice row, whose balance is QuickBooks' balance, to the cent.
  for (const o of orders) {
    const invoices = invoicesByOrder.get(guid(o.salesorderid));
    const invoice = invoices?.[0]?.invoice;
    if (!invoice || invoice.balanceRemaining === undefined) continue;
    const rowsOfOrder = invoiceRowsByOrder.get(guid(o.salesorderid)) ?? [];
    if (rowsOfOrder.length > 1) {
      found('duplicateInvoiceRow', `order ${String(o.salesorderid)}: ${rowsOfOrder.length} invoice rows`);
    }
    const balance = rowsOfOrder[0]?.qbsync_balance;
    if (balance == null || Number(balance).toFixed(2) !== Number(invoice.balanceRemaining).toFixed(2)) {
      found(
        'balanceNotFollowed',
        `order ${String(o.salesorderid)}: Dynamics invoice row ${rowsOfOrder.length === 0 ? 'missing' : String(balance)}, QuickBooks ${invoice.balanceRemaining}`,
      );
    }
  }
  let editsChecked = 0;
  for (const [key, writes] of load.phoneWrites) {
    const [office, listId] = key.split(':') as [Office, string];
    const qbPhone = customerIds.get(office)?.get(listId)?.phone;
    const dvPhone = (accountByKey.get(key) ?? [])[0]?.telephone1;
    editsChecked += 1;
    if (qbPhone !== dvPhone) {
      found('phoneDisagrees', `${key}: QuickBooks ${String(qbPhone)}, Dynamics ${String(dvPhone)}`);
      continue;
    }
    if (!acceptable(writes).includes(String(qbPhone))) {
      found(
        'editLost',
        `${key}: both say ${String(qbPhone)}; last writes ${writes
          .slice(-3)
          .map((w) => `${w.side} ${w.value}`)
          .join(', ')}`,
      );
    }
  }

  const stuckWorkflows = await runningWorkflows(temporal);
  const failedIds: string[] = [];
  const reasons: Record<string, string> = {};
  for await (const w of temporal.workflow.list({
    query: `${RECORD_TYPES} AND ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated')`,
  })) {
    const id = `${w.workflowId} (${w.status.name})`;
    failedIds.push(id);
    if (failedIds.length <= LISTED) reasons[`${id} ${w.runId}`] = await failureReason(temporal, w.workflowId, w.runId);
  }

  const sum = (names: string[]): number => names.reduce((n, c) => n + (byCheck[c] ?? 0), 0);
  return {
    lost: sum([
      'customerWithoutAccount',
      'accountWithoutCustomer',
      'orderWithoutInvoice',
      'editLost',
      'balanceNotFollowed',
    ]),
    duplicated: sum(['duplicateAccount', 'duplicateProduct', 'duplicateInvoice', 'duplicateInvoiceRow']),
    stuck: stuckWorkflows.length,
    disagreed: sum(['phoneDisagrees']),
    byCheck,
    findings,
    stuckWorkflows: stuckWorkflows.slice(0, 50),
    failedRuns: { count: failedIds.length, ids: failedIds.slice(0, 50), reasons },
    checked: {
      accounts: accounts.length,
      products: products.length,
      orders: orders.length,
      quickbooksCustomers: [...customers.values()].reduce((n, c) => n + c.length, 0),
      quickbooksInvoicesFromOrders: invoicesByOrder.size,
      ordersEnteredByLoad: load.orders.size,
      editedCustomers: editsChecked,
    },
  };
}

/** Why a closed run did not succeed: its failure and the failure's causes, one line. */
async function failureReason(temporal: Client, workflowId: string, runId: string): Promise<string> {
  try {
    await temporal.workflow.getHandle(workflowId, runId).result();
    return 'completed';
  } catch (error) {
    const chain: string[] = [];
    for (let e: unknown = error; e instanceof Error && chain.length < 6; e = e.cause) chain.push(e.message);
    return chain.join(' ← ');
  }
}

/** The values a customer's phone may end with: the last write, or either of two writes in a fair conflict. */
function acceptable(writes: readonly PhoneWrite[]): string[] {
  const last = writes.at(-1);
  if (!last) return [];
  const values = [last.value];
  for (let i = writes.length - 2; i >= 0; i--) {
    const w = writes[i]!;
    if (last.at - w.at > CONFLICT_WINDOW_MS) break;
    if (w.side !== last.side) values.push(w.value);
  }
  return values;
}
