/**
 * Active status, both ways: a QuickBooks list record's `IsActive` and its row's `statecode`.
 *
 * Accounts are Active (0) or Inactive (1); products are Active (0), Retired (1), Draft (2) or Under Revision (3)
 * (reference dataverse.md §2.1). Only state 1 means "no longer in use" on both tables: a Draft or Under Revision
 * product is still one the business sells, it is just being edited, so it stays an active QuickBooks item.
 *
 * In the synced fields (`syncBase.ts`) the state travels as the column `statecode`, normalised to 1 (inactive) or
 * null (active): a base written before active status was synced has no `statecode` and reads as active, which is
 * what every such record was, so no record looks changed after the upgrade, and an active record's base stays the
 * same text (`encodeSyncBase` leaves a null `statecode` out).
 */

/** The synced-field column (and Dataverse column) that carries the active status. */
export const ACTIVE_STATE_COLUMN = 'statecode';

/** The state both tables use for "no longer in use": account Inactive, product Retired. */
export const INACTIVE_STATE = 1;

/** State and status written together, as Dataverse requires (reference dataverse.md §2). */
export interface RowState {
  statecode: number;
  statuscode: number;
}

/** Account: Active 0 / status Active 1, Inactive 1 / status Inactive 2. Product: Active 0 / 1, Retired 1 / 2. */
const ROW_STATES: Readonly<Record<'account' | 'product', { active: RowState; inactive: RowState }>> = {
  account: { active: { statecode: 0, statuscode: 1 }, inactive: { statecode: 1, statuscode: 2 } },
  product: { active: { statecode: 0, statuscode: 1 }, inactive: { statecode: 1, statuscode: 2 } },
};

/** The normalised synced value of a row's (or a mapped record's) state: 1 inactive, null active. */
export function activeStateValue(statecode: unknown): number | null {
  return statecode === INACTIVE_STATE ? INACTIVE_STATE : null;
}

/** The row state a QuickBooks `IsActive` stands for. A record read without `IsActive` is active (QuickBooks' default). */
export function stateOfQuickBooks(isActive: boolean | undefined): number {
  return isActive === false ? INACTIVE_STATE : 0;
}

/** Whether a row (raw `statecode`, or its normalised synced value) wants its QuickBooks record active. */
export function quickBooksActive(statecode: unknown): boolean {
  return activeStateValue(statecode) === null;
}

/** The state and status to write so the row holds `synced` (the normalised value). */
export function rowStateFor(table: 'account' | 'product', synced: unknown): RowState {
  const states = ROW_STATES[table];
  return { ...(activeStateValue(synced) === null ? states.active : states.inactive) };
}

/**
 * The state change a row needs so it holds the merged active status, or null when it already does. A Draft or Under
 * Revision product merged as active is left as it is (publishing it is the product flow's business).
 */
export function rowStateChange(table: 'account' | 'product', merged: unknown, rowStatecode: unknown): RowState | null {
  if (activeStateValue(merged) === activeStateValue(rowStatecode)) return null;
  return rowStateFor(table, merged);
}

/**
 * `changes` with the normalised `statecode` a generic column diff produced replaced by the state and status to write
 * (or removed when the row already holds that state).
 */
export function withRowState(
  table: 'account' | 'product',
  changes: Record<string, unknown>,
  merged: unknown,
  rowStatecode: unknown,
): Record<string, unknown> {
  const { [ACTIVE_STATE_COLUMN]: dropped, ...rest } = changes;
  void dropped;
  const change = rowStateChange(table, merged, rowStatecode);
  return change === null ? rest : { ...rest, ...change };
}
