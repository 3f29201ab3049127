import { type Row } from './row';

/**
 * Rows of every table, the row-version counter behind ETags, and an undo journal so a `$batch` change set (and a
 * single write that touches several rows, like an order line recomputing its order) commits or rolls back whole.
 */
export class RecordStore {
  private readonly rows = new Map<string, Map<string, Row>>();
  private rowVersion = 1_000_000;
  private journal: Array<() => void> | undefined;

  constructor(private readonly onChange: () => void) {}

  nextVersion(): number {
    this.rowVersion += 1;
    return this.rowVersion;
  }

  currentVersion(): number {
    return this.rowVersion;
  }

  private tableRows(table: string): Map<string, Row> {
    let rows = this.rows.get(table);
    if (rows === undefined) {
      rows = new Map();
      this.rows.set(table, rows);
    }
    return rows;
  }

  get(table: string, id: string): Row | undefined {
    return this.rows.get(table)?.get(id.toLowerCase());
  }

  all(table: string): Row[] {
    return [...(this.rows.get(table)?.values() ?? [])];
  }

  count(table: string): number {
    return this.rows.get(table)?.size ?? 0;
  }

  put(table: string, id: string, row: Row): void {
    const rows = this.tableRows(table);
    const key = id.toLowerCase();
    const previous = rows.get(key);
    this.journal?.push(() => {
      if (previous === undefined) rows.delete(key);
      else rows.set(key, previous);
    });
    rows.set(key, row);
    this.onChange();
  }

  remove(table: string, id: string): void {
    const rows = this.tableRows(table);
    const key = id.toLowerCase();
    const previous = rows.get(key);
    if (previous === undefined) return;
    this.journal?.push(() => rows.set(key, previous));
    rows.delete(key);
    this.onChange();
  }

  /** Runs `work` atomically; nested calls join the outer transaction so the outermost one decides. */
  transaction<T>(work: () => T): T {
    if (this.journal !== undefined) return work();
    const journal: Array<() => void> = [];
    this.journal = journal;
    try {
      const result = work();
      this.journal = undefined;
      return result;
    } catch (error) {
      this.journal = undefined;
      for (const undo of journal.reverse()) undo();
      this.onChange();
      throw error;
    }
  }

  snapshot(): { rowVersion: number; tables: Record<string, Row[]> } {
    const tables: Record<string, Row[]> = {};
    for (const [table, rows] of this.rows) tables[table] = [...rows.values()];
    return { rowVersion: this.rowVersion, tables };
  }

  restore(
    snapshot: { rowVersion: number; tables: Record<string, Row[]> },
    primaryKeyOf: (table: string) => string | undefined,
  ): void {
    this.rowVersion = Math.max(this.rowVersion, snapshot.rowVersion);
    for (const [table, rows] of Object.entries(snapshot.tables)) {
      const key = primaryKeyOf(table);
      if (key === undefined) continue;
      const map = this.tableRows(table);
      for (const row of rows) {
        const id = row[key];
        if (typeof id === 'string') map.set(id.toLowerCase(), row);
      }
    }
  }
}
