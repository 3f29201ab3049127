import { type ColumnDefinition, type TableDefinition } from './schema';

/** A lookup keeps its target table: polymorphic columns (customerid) need it to answer `@odata.bind` and webhooks. */
export interface LookupValue {
  id: string;
  table: string;
}

export type StoredValue = string | number | boolean | null | LookupValue;
export type Row = Record<string, StoredValue>;

export function isLookupValue(value: unknown): value is LookupValue {
  return typeof value === 'object' && value !== null && 'id' in value && 'table' in value;
}

/** The name a column goes by on the wire: lookups read back as `_<column>_value`. */
export function propertyName(column: ColumnDefinition): string {
  return column.type === 'lookup' ? `_${column.name}_value` : column.name;
}

/** Maps a wire property (`name`, `_customerid_value`) back to its column. */
export function columnForProperty(table: TableDefinition, property: string): ColumnDefinition | undefined {
  const lower = property.toLowerCase();
  const lookupMatch = /^_(.+)_value$/.exec(lower);
  if (lookupMatch?.[1] !== undefined) {
    const column = table.columns.get(lookupMatch[1]);
    return column?.type === 'lookup' ? column : undefined;
  }
  const column = table.columns.get(lower);
  return column !== undefined && column.type !== 'lookup' ? column : undefined;
}

/** The value filters and sorting see: lookups compare by their GUID. */
export function comparableValue(row: Row, column: ColumnDefinition): string | number | boolean | null {
  const value = row[column.name];
  if (value === undefined || value === null) return null;
  if (isLookupValue(value)) return value.id;
  return value;
}
