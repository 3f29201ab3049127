import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  emptyState,
  uniquenessNamespace,
  type CompanyState,
  type DeletedListRecord,
  type DeletedTxnRecord,
  type ListKind,
  type ListRecord,
  type StoredNode,
  type TxnRecord,
} from './companyState';

/**
 * The company file's data plus the indexes QuickBooks would keep (by ID and by case-insensitive FullName), and its
 * persistence: a JSON file replaced atomically (temp file + rename) so a crash never leaves half a company.
 */
export class CompanyStore {
  state: CompanyState = emptyState();
  private listsById = new Map<string, ListRecord>();
  private txnsById = new Map<string, TxnRecord>();
  private names = new Map<string, string>();

  constructor(private readonly dataFile?: string) {
    if (dataFile && existsSync(dataFile)) {
      this.replace(JSON.parse(readFileSync(dataFile, 'utf8')) as CompanyState);
    }
  }

  save(): void {
    if (!this.dataFile) return;
    const temp = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(this.state));
    renameSync(temp, this.dataFile);
  }

  snapshot(): string {
    return JSON.stringify(this.state);
  }

  restore(snapshot: string): void {
    this.replace(JSON.parse(snapshot) as CompanyState);
  }

  private replace(state: CompanyState): void {
    this.state = state;
    this.reindex();
  }

  reindex(): void {
    this.listsById = new Map(this.state.lists.map((r) => [r.listId, r]));
    this.txnsById = new Map(this.state.txns.map((t) => [t.txnId, t]));
    this.names = new Map();
    for (const record of this.state.lists)
      this.names.set(this.nameKey(record.kind, this.fullName(record)), record.listId);
  }

  private nameKey(kind: ListKind, fullName: string): string {
    return `${uniquenessNamespace(kind)}\u0000${fullName.toLowerCase()}`;
  }

  list(listId: string): ListRecord | undefined {
    return this.listsById.get(listId);
  }

  txn(txnId: string): TxnRecord | undefined {
    return this.txnsById.get(txnId);
  }

  fullName(record: ListRecord): string {
    const parts = [record.name];
    let parentId = record.parentId;
    for (let depth = 0; parentId && depth < 10; depth++) {
      const parent = this.listsById.get(parentId);
      if (!parent) break;
      parts.unshift(parent.name);
      parentId = parent.parentId;
    }
    return parts.join(':');
  }

  sublevel(record: ListRecord): number {
    return this.fullName(record).split(':').length - 1;
  }

  /** The record holding `fullName` in the namespace `kind` belongs to (any kind of it), if any. */
  findByName(kind: ListKind, fullName: string): ListRecord | undefined {
    const id = this.names.get(this.nameKey(kind, fullName));
    return id === undefined ? undefined : this.listsById.get(id);
  }

  /**
   * Adds a list record created at `nowSeconds`, stamped as QuickBooks stamps a new one: the next ListID, created and
   * modified then, and that time as its first EditSequence.
   */
  addNewList(
    kind: ListKind,
    name: string,
    fields: StoredNode[],
    nowSeconds: number,
    options: { isActive?: boolean; parentId?: string } = {},
  ): ListRecord {
    const record: ListRecord = {
      kind,
      listId: this.nextListId(nowSeconds),
      created: nowSeconds,
      modified: nowSeconds,
      editSequence: String(nowSeconds),
      name,
      isActive: options.isActive ?? true,
      fields,
    };
    if (options.parentId !== undefined) record.parentId = options.parentId;
    this.addList(record);
    return record;
  }

  private addList(record: ListRecord): void {
    this.state.lists.push(record);
    this.listsById.set(record.listId, record);
    this.names.set(this.nameKey(record.kind, this.fullName(record)), record.listId);
  }

  addTxn(txn: TxnRecord): void {
    this.state.txns.push(txn);
    this.txnsById.set(txn.txnId, txn);
  }

  /** Removes a list record, keeping what `ListDeletedQuery` reports of it. */
  deleteList(record: ListRecord, nowSeconds: number): DeletedListRecord {
    const deleted: DeletedListRecord = {
      listDelType: record.kind,
      listId: record.listId,
      created: record.created,
      deleted: nowSeconds,
      fullName: this.fullName(record),
    };
    this.state.lists = this.state.lists.filter((r) => r.listId !== record.listId);
    this.state.deletedLists = [...(this.state.deletedLists ?? []), deleted];
    this.reindex();
    return deleted;
  }

  /** Removes a transaction, keeping what `TxnDeletedQuery` reports of it. */
  deleteTxn(txn: TxnRecord, nowSeconds: number): DeletedTxnRecord {
    const deleted: DeletedTxnRecord = {
      txnDelType: txn.kind,
      txnId: txn.txnId,
      created: txn.created,
      deleted: nowSeconds,
      refNumber: txn.refNumber,
    };
    this.state.txns = this.state.txns.filter((t) => t.txnId !== txn.txnId);
    this.state.deletedTxns = [...(this.state.deletedTxns ?? []), deleted];
    this.reindex();
    return deleted;
  }

  deletedTxns(): readonly DeletedTxnRecord[] {
    return this.state.deletedTxns ?? [];
  }

  deletedLists(): readonly DeletedListRecord[] {
    return this.state.deletedLists ?? [];
  }

  listsOf(kinds: readonly ListKind[]): ListRecord[] {
    return this.state.lists.filter((r) => kinds.includes(r.kind));
  }

  private nextListId(createdSeconds: number): string {
    this.state.counters.list += 1;
    return `${this.state.counters.list.toString(16).toUpperCase()}-${createdSeconds}`;
  }

  nextTxnId(createdSeconds: number): string {
    this.state.counters.txn += 1;
    return `${this.state.counters.txn.toString(16).toUpperCase()}-${createdSeconds}`;
  }

  nextLineId(createdSeconds: number): string {
    this.state.counters.line += 1;
    return `${this.state.counters.line.toString(16).toUpperCase()}-${createdSeconds}`;
  }
}

/** EditSequence is the modification time in epoch seconds, forced forward so two Mods in one second still differ. */
export function nextEditSequence(previous: string | undefined, nowSeconds: number): string {
  const prior = previous === undefined ? 0 : Number(previous);
  return String(Number.isFinite(prior) && prior >= nowSeconds ? prior + 1 : nowSeconds);
}
