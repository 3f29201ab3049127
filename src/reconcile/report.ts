import { type MappingError } from '../mapping';

/**
 * What `reconcile` reports for one connection. Plain JSON: it is a workflow result (kept well under Temporal's 2 MB
 * payload limit by capping every list) and the `--json` output of `qbsync reconcile`.
 */

/** A column value as either system holds it; money as decimal text. */
export type ColumnValue = string | number | boolean | null;

export interface ColumnDifference {
  quickbooks: ColumnValue;
  dynamics: ColumnValue;
}

export interface OnlyInQuickBooks {
  /** ListID (customers, vendors, items) or TxnID (invoices). */
  key: string;
  name: string;
}

export interface OnlyInDynamics {
  /** The QuickBooks identity the row claims (ListID or TxnID), '' when it has none yet. */
  key: string;
  /** Dataverse row id. */
  id: string;
  name: string;
}

export interface FieldDifference {
  key: string;
  name: string;
  /** Dataverse row id. */
  id: string;
  columns: Record<string, ColumnDifference>;
}

export interface Unmappable {
  key: string;
  name: string;
  errors: MappingError[];
}

export interface EntityTotals {
  onlyInQuickBooks: number;
  onlyInDynamics: number;
  fieldDifferences: number;
  unmappable: number;
}

export interface EntityReconciliation {
  /** Records of this entity the comparison considered on each side. */
  quickbooks: number;
  dynamics: number;
  /** Pairs found on both sides (whether or not their fields agree). */
  matched: number;
  onlyInQuickBooks: OnlyInQuickBooks[];
  onlyInDynamics: OnlyInDynamics[];
  fieldDifferences: FieldDifference[];
  unmappable: Unmappable[];
  /** Full counts; the lists above hold at most `listLimit` entries each. */
  totals: EntityTotals;
}

export const ENTITY_NAMES = ['customers', 'vendors', 'items', 'orders'] as const;
export type ReconciledEntity = (typeof ENTITY_NAMES)[number];

export interface OrderWithoutInvoice {
  /** Dataverse salesorder id. */
  id: string;
  orderNumber: string;
  name: string;
  /** ListID of the order's customer in QuickBooks ('' when the account has none yet). */
  customerListId: string;
  statecode: number | null;
}

export interface AmountDifference {
  id: string;
  orderNumber: string;
  txnId: string;
  invoiceNumber: string;
  /** Dynamics `totalamount`, to the cent. */
  orderTotal: string;
  /** QuickBooks Subtotal + SalesTaxTotal, to the cent. */
  invoiceTotal: string;
  /** invoice − order. */
  difference: string;
}

/**
 * An invoice above its order by exactly the sales tax QuickBooks computed, the order having no tax of its own: Dynamics
 * computes no US sales tax, QuickBooks adds it from its tax codes and items. Expected and explained, so listed apart
 * from the amount differences and not counted against agreement.
 */
export interface SalesTaxOnlyInQuickBooks {
  id: string;
  orderNumber: string;
  txnId: string;
  invoiceNumber: string;
  /** Dynamics `totalamount`, to the cent (no tax in it). */
  orderTotal: string;
  /** QuickBooks Subtotal + SalesTaxTotal, to the cent. */
  invoiceTotal: string;
  /** QuickBooks SalesTaxTotal: the whole difference. */
  salesTax: string;
}

export interface ReconcileReport {
  connection: string;
  /** ISO time the comparison ran (workflow time, so replays agree). */
  generatedAt: string;
  entities: Record<ReconciledEntity, EntityReconciliation>;
  ordersWithoutInvoice: OrderWithoutInvoice[];
  amountDifferences: AmountDifference[];
  /** Orders whose only difference from their invoice is QuickBooks' sales tax (not an amount difference). */
  salesTaxOnlyInQuickBooks: SalesTaxOnlyInQuickBooks[];
  totals: { ordersWithoutInvoice: number; amountDifferences: number; salesTaxOnlyInQuickBooks: number };
  /** Most entries any one list holds. */
  listLimit: number;
  inAgreement: boolean;
}

export const DEFAULT_LIST_LIMIT = 200;

/** Keeps the first `limit` entries while counting all of them, so a report of a badly drifted file stays small. */
export class CappedList<T> {
  readonly items: T[] = [];
  total = 0;

  constructor(private readonly limit: number) {}

  push(item: T): void {
    this.total += 1;
    if (this.items.length < this.limit) this.items.push(item);
  }
}

function entityInAgreement(entity: EntityReconciliation): boolean {
  const t = entity.totals;
  return t.onlyInQuickBooks + t.onlyInDynamics + t.fieldDifferences + t.unmappable === 0;
}

export function reportInAgreement(report: Omit<ReconcileReport, 'inAgreement'>): boolean {
  return (
    ENTITY_NAMES.every((name) => entityInAgreement(report.entities[name])) &&
    report.totals.ordersWithoutInvoice === 0 &&
    report.totals.amountDifferences === 0
  );
}

// ---- the operator's summary ----------------------------------------------------------------------------------

function shown(value: ColumnValue): string {
  if (value === null || value === '') return '(empty)';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function more(total: number, listed: number): string[] {
  return total > listed ? [`    … and ${total - listed} more`] : [];
}

/** The human summary `qbsync reconcile` prints: counts per entity first, then every listed difference. */
export function formatReconcileReport(report: ReconcileReport): string {
  const lines: string[] = [];
  lines.push(`Reconciliation of connection "${report.connection}" at ${report.generatedAt}`);
  lines.push('');
  const header = ['entity', 'QuickBooks', 'Dynamics', 'matched', 'only QB', 'only D365', 'differ', 'unmappable'];
  const rows = ENTITY_NAMES.map((name) => {
    const e = report.entities[name];
    return [
      name,
      e.quickbooks,
      e.dynamics,
      e.matched,
      e.totals.onlyInQuickBooks,
      e.totals.onlyInDynamics,
      e.totals.fieldDifferences,
      e.totals.unmappable,
    ].map(String);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  lines.push(render(header));
  for (const row of rows) lines.push(render(row));
  lines.push(`orders without invoice: ${report.totals.ordersWithoutInvoice}`);
  lines.push(`amount differences:     ${report.totals.amountDifferences}`);
  lines.push(`sales tax only in QB:   ${report.totals.salesTaxOnlyInQuickBooks}`);

  for (const name of ENTITY_NAMES) {
    const e = report.entities[name];
    if (entityInAgreement(e)) continue;
    lines.push('', `${name}:`);
    if (e.totals.onlyInQuickBooks > 0) {
      lines.push('  only in QuickBooks:');
      for (const r of e.onlyInQuickBooks) lines.push(`    ${r.name} (${r.key})`);
      lines.push(...more(e.totals.onlyInQuickBooks, e.onlyInQuickBooks.length));
    }
    if (e.totals.onlyInDynamics > 0) {
      lines.push('  only in Dynamics:');
      for (const r of e.onlyInDynamics) lines.push(`    ${r.name} (${r.key || 'no QuickBooks id'}, row ${r.id})`);
      lines.push(...more(e.totals.onlyInDynamics, e.onlyInDynamics.length));
    }
    if (e.totals.fieldDifferences > 0) {
      lines.push('  field differences (QuickBooks → Dynamics):');
      for (const d of e.fieldDifferences) {
        lines.push(`    ${d.name} (${d.key}):`);
        for (const [column, v] of Object.entries(d.columns)) {
          lines.push(`      ${column}: ${shown(v.quickbooks)} ≠ ${shown(v.dynamics)}`);
        }
      }
      lines.push(...more(e.totals.fieldDifferences, e.fieldDifferences.length));
    }
    if (e.totals.unmappable > 0) {
      lines.push('  cannot be mapped:');
      for (const u of e.unmappable) {
        lines.push(`    ${u.name} (${u.key}): ${u.errors.map((err) => err.message).join('; ')}`);
      }
      lines.push(...more(e.totals.unmappable, e.unmappable.length));
    }
  }
  if (report.totals.ordersWithoutInvoice > 0) {
    lines.push('', 'orders without invoice:');
    for (const o of report.ordersWithoutInvoice) {
      lines.push(
        `    ${o.orderNumber || o.name} (row ${o.id}, customer ${o.customerListId || 'not in QuickBooks yet'})`,
      );
    }
    lines.push(...more(report.totals.ordersWithoutInvoice, report.ordersWithoutInvoice.length));
  }
  if (report.totals.amountDifferences > 0) {
    lines.push('', 'amount differences (invoice − order):');
    for (const a of report.amountDifferences) {
      lines.push(
        `    ${a.orderNumber} / invoice ${a.invoiceNumber || a.txnId}: order ${a.orderTotal}, invoice ${a.invoiceTotal}, difference ${a.difference}`,
      );
    }
    lines.push(...more(report.totals.amountDifferences, report.amountDifferences.length));
  }
  if (report.totals.salesTaxOnlyInQuickBooks > 0) {
    lines.push(
      '',
      'sales tax only in QuickBooks (the order has no tax; QuickBooks added it, so the totals differ by it):',
    );
    for (const t of report.salesTaxOnlyInQuickBooks) {
      lines.push(
        `    ${t.orderNumber} / invoice ${t.invoiceNumber || t.txnId}: order ${t.orderTotal}, invoice ${t.invoiceTotal}, sales tax ${t.salesTax}`,
      );
    }
    lines.push(...more(report.totals.salesTaxOnlyInQuickBooks, report.salesTaxOnlyInQuickBooks.length));
  }
  lines.push('', report.inAgreement ? 'In agreement.' : 'OUT OF AGREEMENT.');
  return lines.join('\n');
}
