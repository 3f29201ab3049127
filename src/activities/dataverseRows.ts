import { type DataverseRow } from '../dataverse/client';
import { moneyToWire } from '../dataverse/entities';
import { MONEY_COLUMNS, NUMERIC_COLUMNS } from '../mapping/entityRegistry';

/**
 * The conversion between the mapping's row shapes (money and decimals as decimal text) and the Web API's JSON (money
 * and decimals as numbers). Which columns are numeric is the entity registry's to say.
 */

/** A mapping-shaped row (money as decimal text) as a Web API body. */
export function toWire(row: Readonly<Record<string, unknown>>): DataverseRow {
  const body: DataverseRow = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === undefined) continue;
    if (NUMERIC_COLUMNS.has(column) && typeof value === 'string') {
      body[column] = MONEY_COLUMNS.has(column) ? moneyToWire(value) : Number(value);
    } else {
      body[column] = value;
    }
  }
  return body;
}

/** A Web API row with numbers turned back into decimal text, the way the mapping reads money. */
export function fromWire<T>(row: DataverseRow): T {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (column.includes('@')) continue;
    out[column] = typeof value === 'number' && NUMERIC_COLUMNS.has(column) ? String(value) : value;
  }
  return out as T;
}

export function etagOf(row: DataverseRow): string | undefined {
  const etag = row['@odata.etag'];
  return typeof etag === 'string' ? etag : undefined;
}

/** A text column's value, with blank read as absent. */
export function textOf(row: DataverseRow, column: string): string | null {
  const v = row[column];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The text columns of `wanted` the row does not hold yet, or null when it holds them all (diff before write). */
export function textPatch(row: DataverseRow, wanted: Readonly<Record<string, string>>): DataverseRow | null {
  const patch: DataverseRow = {};
  for (const [column, value] of Object.entries(wanted)) if (textOf(row, column) !== value) patch[column] = value;
  return Object.keys(patch).length > 0 ? patch : null;
}
