import { isLookupValue, propertyName, type Row } from './row';
import { type ColumnDefinition, type Schema, type TableDefinition } from './schema';
import { type RecordStore } from './store';

/** Which instance annotations the caller asked for with `Prefer: odata.include-annotations="…"`. */
export class AnnotationFilter {
  private readonly patterns: string[];

  constructor(prefer: string | undefined) {
    const match = /odata\.include-annotations\s*=\s*"?([^";]*)"?/i.exec(prefer ?? '');
    this.patterns = (match?.[1] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
  }

  get any(): boolean {
    return this.patterns.length > 0;
  }

  wants(annotation: string): boolean {
    return this.patterns.some(
      (p) => p === '*' || p === annotation || (p.endsWith('*') && annotation.startsWith(p.slice(0, -1))),
    );
  }

  get raw(): string {
    return this.patterns.join(',');
  }
}

export function etagOf(row: Row): string {
  return `W/"${String(row.versionnumber)}"`;
}

const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
const NAVIGATION = 'Microsoft.Dynamics.CRM.associatednavigationproperty';
const LOOKUP_TABLE = 'Microsoft.Dynamics.CRM.lookuplogicalname';

/** Shapes one row the way the Web API does: etag first, lookups as `_x_value`, annotations only on request. */
export function serializeRow(
  schema: Schema,
  store: RecordStore,
  table: TableDefinition,
  row: Row,
  select: ColumnDefinition[] | undefined,
  annotations: AnnotationFilter,
): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.etag': etagOf(row) };
  const columns = select ?? [...table.columns.values()];
  const withKey = columns.some((c) => c.name === table.primaryKey)
    ? columns
    : [...columns, table.columns.get(table.primaryKey) as ColumnDefinition];
  for (const column of withKey) {
    const name = propertyName(column);
    const value = row[column.name] ?? null;
    if (isLookupValue(value)) {
      const target = schema.tables.get(value.table);
      const targetRow = target === undefined ? undefined : store.get(value.table, value.id);
      const targetName = target === undefined ? undefined : targetRow?.[target.primaryName];
      if (annotations.wants(FORMATTED) && typeof targetName === 'string') out[`${name}@${FORMATTED}`] = targetName;
      const navigation = column.targets?.find((t) => t.table === value.table)?.navigation;
      if (annotations.wants(NAVIGATION) && navigation !== undefined) out[`${name}@${NAVIGATION}`] = navigation;
      if (annotations.wants(LOOKUP_TABLE)) out[`${name}@${LOOKUP_TABLE}`] = value.table;
      out[name] = value.id;
      continue;
    }
    if (annotations.wants(FORMATTED) && value !== null) {
      if (column.type === 'choice' && typeof value === 'number') {
        const label = schema.optionLabel(table, column, value);
        if (label !== undefined) out[`${name}@${FORMATTED}`] = label;
      } else if (column.type === 'boolean') {
        out[`${name}@${FORMATTED}`] = value === true ? 'Yes' : 'No';
      } else if (column.type === 'money' && typeof value === 'number') {
        out[`${name}@${FORMATTED}`] =
          `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
      }
    }
    out[name] = value;
  }
  return out;
}
